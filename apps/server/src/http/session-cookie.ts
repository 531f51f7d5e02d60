import { AppError } from '@tdk/core';
import { parse } from 'cookie';
import type { Request, RequestHandler, Response } from 'express';
import { sendError } from './errors';
import { requestIdOf } from './request-context';

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

const signedInByCookie = (req: Request) => !req.get('authorization') && credentialOf(req) !== undefined;

/**
 * `httpsOnly`: the server is reached over https (its public URL says so), so the cookie is Secure
 * even when TLS ends at a proxy it does not trust to say so (`req.secure` is then false).
 */
export function sessionCookieFor(req: Request, res: Response, httpsOnly: boolean) {
  // HttpOnly: scripts never see it. SameSite=Lax: not sent on cross-site posts. Secure on https,
  // which leaves plain http on a developer's machine working.
  const options = { httpOnly: true, sameSite: 'lax', secure: httpsOnly || req.secure, path: '/' } as const;
  return {
    signedIn: signedInByCookie(req),
    set(token: string, expiresAt: Date) {
      res.cookie(sessionCookieName, token, { ...options, expires: expiresAt });
    },
    clear() {
      res.clearCookie(sessionCookieName, options);
    },
  };
}

/** The header the admin app sends with every request (any value): see `csrfGuard`. */
const csrfHeader = 'x-tdk-csrf';

/**
 * A write signed in by the session cookie must carry `X-TDK-CSRF`: a cross-site form cannot send a
 * header, and a cross-site script cannot without a CORS preflight this server never grants. Bearer
 * requests carry no ambient credential, so API clients are unaffected.
 */
export const csrfGuard: RequestHandler = (req, res, next) => {
  const safe = req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS';
  if (safe || !signedInByCookie(req) || req.get(csrfHeader)) return next();
  sendError(
    res,
    new AppError('forbidden', `Requests signed in by cookie must send the ${csrfHeader} header.`),
    requestIdOf(req),
  );
};
