/** What an error is made of: the server's `{ error: { code, message, request_id, details } }` and the response around it. */
export interface ErrorInit {
  code: string;
  status?: number | undefined;
  requestId?: string | undefined;
  details?: Record<string, unknown> | undefined;
  /** Seconds to wait, from `Retry-After`. */
  retryAfter?: number | undefined;
  cause?: unknown;
}

/**
 * Every error the SDK throws is a `TDKError` (an aborted request rejects with its signal's reason,
 * as `fetch` does). Switch on the subclass, or on `code` for the finer cases.
 */
export class TDKError extends Error {
  override name = 'TDKError';
  /** Stable, machine-readable: the server's code (`rate_limited`, `agent_failed`, …) or the SDK's own (`timeout`, `connection_error`). */
  readonly code: string;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The server's id of the request (also in its logs): quote it when asking for support. */
  readonly requestId: string | undefined;
  /** More about the error, e.g. `call_id`, `issues`, `resets_at`. */
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, init: ErrorInit) {
    super(message, { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.requestId = init.requestId;
    this.details = init.details;
  }
}

/** 401: the API key (or session token) is missing, unknown, revoked or expired. */
export class AuthenticationError extends TDKError {
  override name = 'AuthenticationError';
}

/** 403: the account is suspended (`account_suspended`), has an unpaid invoice (`billing_past_due`), its subscription has ended (`subscription_canceled`), holds all the keys its tier allows (`key_limit_reached`), or lacks the role (`forbidden`). */
export class PermissionError extends TDKError {
  override name = 'PermissionError';
}

/** 429: too many requests for your tier. Nothing was done; try again in `retryAfter` seconds. */
export class RateLimitError extends TDKError {
  override name = 'RateLimitError';
  /** Seconds to wait before trying again (the `Retry-After` header). */
  readonly retryAfter: number | undefined;

  constructor(message: string, init: ErrorInit) {
    super(message, init);
    this.retryAfter = init.retryAfter;
  }
}

/** 402 `insufficient_funds`: the key's wallet cannot pay for this call right now. Nothing was paid. */
export class InsufficientFundsError extends TDKError {
  override name = 'InsufficientFundsError';
}

/** 402 `quota_exceeded` (calls included today; `details.resets_at`) or `spend_cap_exceeded` (this month's cap). Nothing was paid. */
export class QuotaExceededError extends TDKError {
  override name = 'QuotaExceededError';
}

/** One reason a request or an agent input was refused: where (`/key`, `agent_id`) and why. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** 400: the request, or the input for the agent's input schema, is not valid. Nothing was paid. */
export class InvalidInputError extends TDKError {
  override name = 'InvalidInputError';

  /** What is wrong, field by field (empty when the server gave no detail). */
  get issues(): ValidationIssue[] {
    return (this.details?.issues as ValidationIssue[] | undefined) ?? [];
  }
}

/** 404: no such agent (`agent_not_found`), call, or key (`not_found`). */
export class NotFoundError extends TDKError {
  override name = 'NotFoundError';
}

/** 409: the Idempotency-Key was used with another request (`idempotency_conflict`), is still running (`idempotency_in_progress`), or the change conflicts (`conflict`). */
export class ConflictError extends TDKError {
  override name = 'ConflictError';
}

/**
 * 502 `agent_failed` / 504 `agent_timeout`: the agent was paid, then failed or did not answer in
 * time. The call is recorded (`callId`, with its payment in `details.payment`) and not billed.
 */
export class AgentError extends TDKError {
  override name = 'AgentError';

  /** The recorded call: `tdk.calls.get(callId)`. */
  get callId(): string | undefined {
    return this.details?.call_id as string | undefined;
  }
}

/** The request did not finish within `timeoutMs` (retries included). */
export class TimeoutError extends TDKError {
  override name = 'TimeoutError';
}

/** TDK could not be reached, or the connection broke, and retrying did not help. */
export class ConnectionError extends TDKError {
  override name = 'ConnectionError';
}

type ErrorClass = new (message: string, init: ErrorInit) => TDKError;

const byCode: Record<string, ErrorClass> = {
  insufficient_funds: InsufficientFundsError,
  quota_exceeded: QuotaExceededError,
  spend_cap_exceeded: QuotaExceededError,
  agent_failed: AgentError,
  agent_timeout: AgentError,
};

const byStatus: Record<number, ErrorClass> = {
  400: InvalidInputError,
  401: AuthenticationError,
  403: PermissionError,
  404: NotFoundError,
  409: ConflictError,
  429: RateLimitError,
};

/**
 * The error for a server error: by code where the status is shared (402, 502, 504), else by status,
 * so a code added to the server later still lands in the right class.
 */
export function errorFor(message: string, init: ErrorInit): TDKError {
  const ErrorClass = byCode[init.code] ?? byStatus[init.status ?? 0] ?? TDKError;
  return new ErrorClass(message, init);
}
