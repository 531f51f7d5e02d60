import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router } from 'express';
import { pageHeaders } from './security-headers';

/**
 * The admin app's production build, at /admin. Strict headers: no inline or foreign script, style or
 * connection, never framed, no referrer (and no MIME sniffing, which the host sets on every
 * response). Paths that are not files get index.html (the app routes in the browser); a missing
 * asset stays a 404.
 */
export function adminApp(distDir: string): Router {
  const router = Router();
  router.use(pageHeaders(policy));
  router.use(
    '/assets',
    express.static(join(distDir, 'assets'), { immutable: true, maxAge: '1y' }),
    (_req, res) => void res.status(404).type('text/plain').send('Not found.\n'),
  );
  router.use(express.static(distDir, { index: false }));
  router.get('/{*path}', (_req, res) => {
    const index = join(distDir, 'index.html');
    if (!existsSync(index)) {
      res
        .status(404)
        .type('text/plain')
        .send('The admin app is not built. Run `pnpm --filter @tdk/admin build` (npm start does it).\n');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}

/** No inline or foreign script, style or connection. */
const policy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
];
