import { databaseUnavailable, invalidJson } from '@tdk/api';
import { AppError, errorBody, isAppError } from '@tdk/core';
import { isDatabaseUnavailable } from '@tdk/db';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { requestIdOf } from './request-context';

/** Sends an AppError in the documented format, with the headers it carries (e.g. Retry-After). */
export function sendError(res: Response, error: AppError, requestId: string): void {
  for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
  res.status(error.status).json(errorBody(error.code, error.message, requestId, error.details));
}

/** No route answered: a 405 with `Allow` when the path has routes for other methods, else a 404. */
export const notFound =
  (methodsAt: (path: string) => string[]): RequestHandler =>
  (req, res) => {
    const allowed = methodsAt(req.path);
    const error =
      allowed.length > 0
        ? new AppError(
            'method_not_allowed',
            `${req.method} is not allowed on ${req.path}: use ${allowed.join(' or ')}.`,
            {
              headers: { Allow: allowed.join(', ') },
            },
          )
        : new AppError('not_found', `No route for ${req.method} ${req.path}.`);
    sendError(res, error, requestIdOf(req));
  };

/** Body parser failures are the caller's fault and say so; anything else is logged and hidden. */
export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const requestId = requestIdOf(req);
  const type = (err as { type?: string }).type;
  let error: AppError;
  if (isAppError(err)) error = err;
  else if (type === 'entity.parse.failed') error = invalidJson();
  else if (type === 'entity.too.large')
    error = new AppError('payload_too_large', 'The request body is too large.');
  else if (type === 'encoding.unsupported' || type === 'charset.unsupported')
    error = new AppError('unsupported_media_type', 'The request body encoding is not supported.');
  else if (isClientFault(err))
    // e.g. a body that does not decompress as its Content-Encoding says, or a path that does not decode
    error = new AppError('invalid_input', 'The request could not be read.');
  else if (isDatabaseUnavailable(err)) error = databaseUnavailable();
  else {
    req.log.error({ err }, 'unhandled error');
    error = new AppError(
      'internal_error',
      'Something went wrong on our side. Quote the request id if you contact us.',
    );
  }
  if (res.headersSent) return res.end();
  sendError(res, error, requestId);
};

/** Refusals of body-parser and the router carry a 4xx `status`: the request, not the server, is at fault. */
const isClientFault = (err: unknown): boolean => {
  const { status } = err as { status?: unknown };
  return typeof status === 'number' && status >= 400 && status < 500;
};

/**
 * The REST adapter writes errors in its own envelope around our tRPC error shape. This rewrites that
 * body, before it leaves, into the one documented format — the shape's `data` holds everything needed.
 */
export const documentedRestErrors: RequestHandler = (req, res, next) => {
  const end = res.end.bind(res) as (chunk?: unknown, ...rest: unknown[]) => Response;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (res.statusCode >= 400 && typeof chunk === 'string') {
      const shape = JSON.parse(chunk) as {
        message: string;
        data: { code: string; requestId?: string; details?: Record<string, unknown> };
      };
      // Errors raised before a procedure matched (unknown path) have no context, hence no request id.
      const requestId = shape.data.requestId ?? requestIdOf(req);
      const body = JSON.stringify(errorBody(shape.data.code, shape.message, requestId, shape.data.details));
      res.setHeader('Content-Length', Buffer.byteLength(body));
      return end(body, ...rest);
    }
    return end(chunk, ...rest);
  }) as Response['end'];
  next();
};
