import { describe, expect, it } from 'vitest';
import { AppError, errorBody } from './errors';

describe('AppError', () => {
  it('maps each code to its documented HTTP status', () => {
    expect(new AppError('rate_limited', 'slow down').status).toBe(429);
    expect(new AppError('payment_required', 'quota').status).toBe(402);
    expect(new AppError('gateway_timeout', 'agent').status).toBe(504);
  });

  it('renders the one documented error body', () => {
    expect(errorBody('not_found', 'No such route', 'req_1')).toEqual({
      error: { code: 'not_found', message: 'No such route', request_id: 'req_1' },
    });
    expect(errorBody('invalid_input', 'bad', 'req_2', { field: 'x' }).error.details).toEqual({ field: 'x' });
  });

  it('is an answer, not a trace: no stack of its own, while its cause keeps one', () => {
    const cause = new Error('the socket closed');
    const error = new AppError('service_unavailable', 'Try again', { cause });
    expect(error.stack).toBe('AppError: Try again');
    expect(error.cause).toBe(cause);
    expect(cause.stack).toContain('errors.test.ts');
  });
});
