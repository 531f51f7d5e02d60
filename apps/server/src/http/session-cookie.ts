import { parse } from 'cookie';
import type { Request, Response } from 'express';

/** The admin app's session cookie. API clients send the same token as `Authorization: Bearer`. */
export const sessionCookieName = 'tdk_session';

/** The Bearer token when there is one, else the session cookie. */
export function credentialOf(req: Request): string | undefined {
  const header = req.get('authorization');
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1];
  }
  const cookieHeader = req.get('cookie');
  return cookieHeader ? parse(cookieHeader)[sessionCookieName] : undefined;
}

export function sessionCookieFor(req: Request, res: Response) {
  // HttpOnly: scripts never see it. SameSite=Lax: not sent on cross-site posts. Secure on https,
  // which leaves plain http on a developer's machine working.
  const options = { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/' } as const;
  return {
    set(token: string, expiresAt: Date) {
      res.cookie(sessionCookieName, token, { ...options, expires: expiresAt });
    },
    clear() {
      res.clearCookie(sessionCookieName, options);
    },
  };
}
