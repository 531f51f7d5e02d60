import type { Database, UserTable } from '@tdk/db';
import type { Kysely, Selectable } from 'kysely';
import { generateSessionToken, sessionIdOf } from './session-token';

export type UserRow = Selectable<UserTable>;

export interface IssuedSession {
  id: string;
  token: string;
  expiresAt: Date;
}

export async function createSession(
  db: Kysely<Database>,
  userId: string,
  meta: { ip: string | undefined; userAgent: string | undefined },
  ttlMs: number,
): Promise<IssuedSession> {
  const token = generateSessionToken();
  const id = sessionIdOf(token);
  const expiresAt = new Date(Date.now() + ttlMs);
  await db
    .insertInto('session')
    .values({
      id,
      user_id: userId,
      expires_at: expiresAt,
      ip: meta.ip ?? null,
      user_agent: meta.userAgent ?? null,
    })
    .execute();
  return { id, token, expiresAt };
}

/**
 * The session and user behind a token, or null when unknown or expired. Sliding expiry: a session
 * used in the second half of its lifetime is extended by a full lifetime.
 */
export async function validateSessionToken(
  db: Kysely<Database>,
  token: string,
  ttlMs: number,
): Promise<{ sessionId: string; expiresAt: Date; extended: boolean; user: UserRow } | null> {
  const id = sessionIdOf(token);
  const row = await db
    .selectFrom('session')
    .innerJoin('app_user', 'app_user.id', 'session.user_id')
    .selectAll('app_user')
    .select(['session.expires_at as session_expires_at'])
    .where('session.id', '=', id)
    .executeTakeFirst();
  if (!row) return null;
  const { session_expires_at: sessionExpiresAt, ...user } = row;
  const now = Date.now();
  if (sessionExpiresAt.getTime() <= now) {
    await db.deleteFrom('session').where('id', '=', id).execute();
    return null;
  }
  let expiresAt = sessionExpiresAt;
  if (sessionExpiresAt.getTime() - now < ttlMs / 2) {
    expiresAt = new Date(now + ttlMs);
    await db.updateTable('session').set({ expires_at: expiresAt }).where('id', '=', id).execute();
  }
  return { sessionId: id, expiresAt, extended: expiresAt !== sessionExpiresAt, user };
}
