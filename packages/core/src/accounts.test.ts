import { describe, expect, it } from 'vitest';
import { assertPasswordAcceptable, normaliseEmail } from './accounts';
import { AppError } from './errors';

const codeOf = (fn: () => void) => {
  try {
    fn();
  } catch (e) {
    return (e as AppError).code;
  }
  return 'ok';
};

describe('emails', () => {
  it('are trimmed and lower-cased', () => {
    expect(normaliseEmail('  Dev@Example.COM ')).toBe('dev@example.com');
  });
  it.each([
    '',
    'dev',
    'dev@',
    '@example.com',
    'dev@example',
    'a b@example.com',
    `${'a'.repeat(250)}@x.io`,
  ])('refuses %j', (raw) => expect(codeOf(() => normaliseEmail(raw))).toBe('invalid_email'));
});

describe('password policy', () => {
  it('accepts a decent password', () => {
    expect(codeOf(() => assertPasswordAcceptable('correct horse battery', 'dev@example.com'))).toBe('ok');
  });
  it.each([
    ['short', 'Use at least 10'],
    ['dev@example.com', 'email'],
    ['DEV@example.com', 'email'],
    ['Password123', 'too common'],
    ['aaaaaaaaaaaa', 'too common'],
    ['x'.repeat(257), 'at most'],
  ])('refuses %j with a clear reason', (password, reason) => {
    expect(() => assertPasswordAcceptable(password, 'dev@example.com')).toThrow(reason);
    expect(codeOf(() => assertPasswordAcceptable(password, 'dev@example.com'))).toBe('weak_password');
  });
  it('raises AppError', () => {
    expect(() => assertPasswordAcceptable('short', 'a@b.co')).toThrow(AppError);
  });
});
