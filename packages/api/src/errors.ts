import { AppError, type ErrorCode, isAppError } from '@tdk/core';
import { isDatabaseUnavailable } from '@tdk/db';
import { TRPCError } from '@trpc/server';
import { ZodError } from 'zod';

type TRPCCode = TRPCError['code'];

const trpcCodeByStatus: Record<number, TRPCCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  402: 'PAYMENT_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_SUPPORTED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_SERVER_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

/** tRPC's own errors (raised by the transports) expressed in our codes. */
const appCodeByTRPCCode: Partial<Record<TRPCCode, ErrorCode>> = {
  PARSE_ERROR: 'invalid_json',
  BAD_REQUEST: 'invalid_input',
  UNAUTHORIZED: 'unauthenticated',
  PAYMENT_REQUIRED: 'payment_required',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not_found',
  METHOD_NOT_SUPPORTED: 'method_not_allowed',
  CONFLICT: 'conflict',
  PAYLOAD_TOO_LARGE: 'payload_too_large',
  UNSUPPORTED_MEDIA_TYPE: 'unsupported_media_type',
  TOO_MANY_REQUESTS: 'rate_limited',
};

/** An AppError as the TRPCError that carries the matching HTTP status on both transports. */
export function toTRPCError(error: AppError): TRPCError {
  return new TRPCError({
    code: trpcCodeByStatus[error.status] ?? 'INTERNAL_SERVER_ERROR',
    message: error.message,
    cause: error,
  });
}

/** The database could not be reached or dropped the connection: not a bug, and worth a retry soon. */
export const databaseUnavailable = () =>
  new AppError(
    'service_unavailable',
    'The database cannot be reached right now. Try again shortly; with the same Idempotency-Key a call is never paid twice.',
    { headers: { 'Retry-After': '1' } },
  );

/** A body that is not JSON: a fixed message, never a piece of the body. */
export const invalidJson = () => new AppError('invalid_json', 'The request body is not valid JSON.');

/**
 * Whatever went wrong, as an AppError safe to show: ours pass through, input validation becomes
 * `invalid_input` with the issues, a database out of reach `service_unavailable`, and anything
 * unexpected becomes a bare `internal_error` — its message may hold internals, so it is logged,
 * never returned.
 */
export function toAppError(error: TRPCError): AppError {
  const cause = error.cause;
  if (isAppError(cause)) return cause;
  if (cause instanceof ZodError) {
    return new AppError('invalid_input', 'The request is not valid.', {
      details: {
        issues: cause.issues.map((issue) => ({
          path: issue.path.join('.'),
          message: issue.message,
          code: issue.code,
        })),
      },
    });
  }
  // tRPC reads the body (or a query's `input`) itself and reports JSON.parse's message, which quotes
  // the input — a password, say: the same fixed answer as for a malformed body on REST instead.
  if (error.code === 'BAD_REQUEST' && cause instanceof SyntaxError) return invalidJson();
  const code = appCodeByTRPCCode[error.code];
  if (code) return new AppError(code, error.message);
  if (isDatabaseUnavailable(cause)) return databaseUnavailable();
  return new AppError(
    'internal_error',
    'Something went wrong on our side. Quote the request id if you contact us.',
  );
}
