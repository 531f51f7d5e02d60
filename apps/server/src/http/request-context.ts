import type { IncomingMessage, ServerResponse } from 'node:http';
import { newId } from '@tdk/core';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger';

declare module 'http' {
  interface IncomingMessage {
    /** This request's logger: every line carries its `request_id`. */
    log: Logger;
  }
}

const safeRequestId = /^[A-Za-z0-9_.:-]{1,128}$/;
const requestIds = new WeakMap<IncomingMessage, string>();
const quietPaths = new Set(['/healthz', '/metrics']);

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is sane, else a fresh `req_…`),
 * echoes it back, gives it a logger (`req.log`) that stamps the id on every line, and logs one line
 * when it completes: info, warn for a 4xx, error for a 5xx or a request the client abandoned.
 *
 * The logger is made on first use, and the completion line only built when its level is on: most
 * requests never log but that line. (pino-http, used before, made two child loggers per request,
 * serialising and redacting the request into one of them even with logging off: ~40 KB and a few
 * percent of a paid call's CPU.)
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && safeRequestId.test(incoming) ? incoming : newId('request');
    requestIds.set(req, id);
    res.setHeader('X-Request-Id', id);
    let log: Logger | undefined;
    Object.defineProperty(req, 'log', {
      configurable: true,
      get: () => {
        log ??= logger.child({ request_id: id });
        return log;
      },
    });
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (logger.isLevelEnabled('error') && !quietPaths.has(path)) {
      const started = performance.now();
      res.once('close', () => logCompletion(logger, req, res, { id, path, started }));
    }
    next();
  };
}

function logCompletion(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  { id, path, started }: { id: string; path: string; started: number },
): void {
  const finished = res.writableFinished;
  const level = !finished || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  req.log[level](
    {
      // The path only: query strings may carry tokens. Credentials in headers are redacted by the logger.
      req: { id, method: req.method, path, headers: req.headers, remoteAddress: req.socket.remoteAddress },
      res: { statusCode: res.statusCode, headers: res.getHeaders() },
      responseTime: Math.round(performance.now() - started),
    },
    finished ? 'request completed' : 'request aborted',
  );
}

export function requestIdOf(req: IncomingMessage): string {
  return requestIds.get(req) ?? '';
}
