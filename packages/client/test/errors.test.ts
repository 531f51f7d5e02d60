import { describe, expect, it } from 'vitest';
import { errorStatus } from '../../core/src/errors';
import { errorFor } from '../src/errors';

/**
 * Every code the server can answer, and the class the SDK raises for it. Typed by the server's own
 * table: a code added there fails the type-check here until it is given its class.
 */
const expected: Record<keyof typeof errorStatus, string> = {
  invalid_input: 'InvalidInputError',
  invalid_json: 'InvalidInputError',
  invalid_email: 'InvalidInputError',
  weak_password: 'InvalidInputError',
  invalid_signature: 'InvalidInputError',
  email_taken: 'InvalidInputError',
  unauthenticated: 'AuthenticationError',
  invalid_credentials: 'AuthenticationError',
  invalid_api_key: 'AuthenticationError',
  api_key_revoked: 'AuthenticationError',
  api_key_expired: 'AuthenticationError',
  payment_required: 'TDKError',
  quota_exceeded: 'QuotaExceededError',
  spend_cap_exceeded: 'QuotaExceededError',
  insufficient_funds: 'InsufficientFundsError',
  forbidden: 'PermissionError',
  account_suspended: 'PermissionError',
  billing_past_due: 'PermissionError',
  subscription_canceled: 'PermissionError',
  key_limit_reached: 'PermissionError',
  not_found: 'NotFoundError',
  agent_not_found: 'NotFoundError',
  method_not_allowed: 'TDKError',
  conflict: 'ConflictError',
  idempotency_conflict: 'ConflictError',
  idempotency_in_progress: 'ConflictError',
  payload_too_large: 'TDKError',
  unsupported_media_type: 'TDKError',
  rate_limited: 'RateLimitError',
  internal_error: 'TDKError',
  bad_gateway: 'TDKError',
  agent_failed: 'AgentError',
  service_unavailable: 'TDKError',
  gateway_timeout: 'TDKError',
  agent_timeout: 'AgentError',
};

describe('errorFor', () => {
  it.each(Object.entries(errorStatus))('maps %s (%i) to its class', (code, status) => {
    const error = errorFor('message', { code, status, requestId: 'req_1', retryAfter: 3 });
    expect(error.name).toBe(expected[code as keyof typeof errorStatus]);
    expect(error).toMatchObject({ code, status, requestId: 'req_1', message: 'message' });
  });

  it("maps an async call's stored error, which has no status, by its code", () => {
    expect(errorFor('m', { code: 'agent_timeout', details: { call_id: 'call_1' } })).toMatchObject({
      name: 'AgentError',
      callId: 'call_1',
    });
    expect(errorFor('m', { code: 'insufficient_funds' }).name).toBe('InsufficientFundsError');
  });

  it('maps a code it does not know by its status', () => {
    expect(errorFor('m', { code: 'some_future_code', status: 403 }).name).toBe('PermissionError');
    expect(errorFor('m', { code: 'http_error', status: 418 }).name).toBe('TDKError');
  });
});
