import { roles, tierNames, userStatuses } from '@tdk/core';
import { z } from 'zod';
import type { IssuedSession, UserRow } from './sessions';

export const ZUser = z
  .object({
    id: z.string().describe('`usr_…`'),
    email: z.string(),
    role: z.enum(roles),
    tier: z.enum(tierNames),
    status: z.enum(userStatuses),
    created_at: z.string().describe('ISO 8601'),
  })
  .meta({ id: 'User' });

export const ZSession = z
  .object({
    token: z.string().describe('Send as `Authorization: Bearer <token>`. Shown once; store it safely.'),
    expires_at: z.string().describe('ISO 8601; extended while the session is used'),
  })
  .meta({ id: 'Session' });

export const ZSignedIn = z.object({ user: ZUser, session: ZSession });

/** Credentials are plain strings here: the use case gives weak or malformed ones a specific code. */
export const ZCredentials = z.strictObject({
  email: z.string().max(1_000).describe('Your email address'),
  password: z.string().max(1_000).describe('At least 10 characters, not your email, not a common password'),
});

export const userDto = (user: UserRow): z.infer<typeof ZUser> => ({
  id: user.id,
  email: user.email,
  role: user.role,
  tier: user.tier,
  status: user.status,
  created_at: user.created_at.toISOString(),
});

export const sessionDto = (session: IssuedSession): z.infer<typeof ZSession> => ({
  token: session.token,
  expires_at: session.expiresAt.toISOString(),
});
