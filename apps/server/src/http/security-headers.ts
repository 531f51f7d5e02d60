import type { RequestHandler } from 'express';

/** On every response: what is served as JSON or text is never taken for a script or a page. */
export const noSniff: RequestHandler = (_req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  next();
};

/** API answers carry secrets (session tokens, key secrets): no cache, shared or the browser's, keeps them. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/**
 * The headers of a page for browsers: never framed (clickjacking; CSP `frame-ancestors` and, for
 * older browsers, X-Frame-Options), no referrer, its own browsing context, no camera, microphone or
 * location. `policy` holds the page's other Content-Security-Policy directives.
 */
export function pageHeaders(policy: string[] = []): RequestHandler {
  const contentSecurityPolicy = [...policy, "frame-ancestors 'none'"].join('; ');
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', contentSecurityPolicy);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
    next();
  };
}
