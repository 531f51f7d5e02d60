/**
 * The one error type the product raises on purpose. Its `code` is part of the public contract
 * (clients switch on it), so codes are only ever added, never renamed.
 */
export const errorStatus = {
  invalid_input: 400,
  invalid_json: 400,
  invalid_email: 400,
  weak_password: 400,
  invalid_signature: 400,
  email_taken: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  invalid_api_key: 401,
  api_key_revoked: 401,
  api_key_expired: 401,
  payment_required: 402,
  quota_exceeded: 402,
  spend_cap_exceeded: 402,
  insufficient_funds: 402,
  forbidden: 403,
  account_suspended: 403,
  billing_past_due: 403,
  subscription_canceled: 403,
  key_limit_reached: 403,
  not_found: 404,
  agent_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  idempotency_conflict: 409,
  idempotency_in_progress: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  bad_gateway: 502,
  agent_failed: 502,
  service_unavailable: 503,
  gateway_timeout: 504,
  agent_timeout: 504,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  /** Safe to show to the caller: never put a secret here. */
  readonly details: Record<string, unknown> | undefined;
  /** Extra response headers, e.g. Retry-After for rate limits. */
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    // An answer to the caller, not a fault to trace: tRPC reads every thrown error's stack, and
    // formatting it (through source maps) was a good part of the CPU of a 4xx, such as a 429 under a flood.
    // The cause, when there is one, keeps its own.
    this.stack = `${this.name}: ${message}`;
    this.code = code;
    this.status = errorStatus[code];
    this.details = options.details;
    this.headers = options.headers;
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

/** The documented error body: `{ error: { code, message, request_id, details? } }`. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    request_id: string | undefined;
    details?: Record<string, unknown>;
  };
}

export function errorBody(
  code: string,
  message: string,
  requestId: string | undefined,
  details?: Record<string, unknown>,
): ErrorBody {
  return { error: { code, message, request_id: requestId, ...(details ? { details } : {}) } };
}
