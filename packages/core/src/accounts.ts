import { AppError } from './errors';

export const roles = ['customer', 'admin'] as const;
export type Role = (typeof roles)[number];
export const userStatuses = ['active', 'suspended'] as const;
export type UserStatus = (typeof userStatuses)[number];

/** Emails compare case-insensitively and without surrounding space; this is the form stored. */
export function normaliseEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  // Deliberately modest: one @, something on both sides, a dot in the domain, no spaces.
  if (email.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    throw new AppError('invalid_email', 'Enter a valid email address, like dev@example.com.');
  }
  return email;
}

export const passwordRules = { minLength: 10, maxLength: 256 } as const;

/** The most common passwords of the usual breach lists that are long enough to pass the length rule. */
const commonPasswords = new Set([
  '1234567890',
  '0123456789',
  '12345678910',
  '1q2w3e4r5t',
  '1qaz2wsx3edc',
  'qwertyuiop',
  'password1',
  'password12',
  'password123',
  'password1234',
  'passw0rd123',
  'iloveyou123',
  'qwerty1234',
  'qwerty12345',
  'qwerty123456',
  'abcdefghij',
  'abcd123456',
  'a1234567890',
  'football123',
  'baseball123',
  'welcome123',
  'letmein123',
  'admin12345',
  'administrator',
  'changeme123',
  'sunshine123',
  'princess123',
  'trustno1234',
  'superman123',
  'michael123',
  'monkey12345',
  'dragon12345',
  'starwars123',
  'whatever123',
  'zaq12wsxcde',
  'asdfghjkl1',
  'asdfghjkl;',
  'zxcvbnm123',
  '1111111111',
  '0000000000',
  '9876543210',
  'passwordpassword',
]);

/** Refuses weak passwords with a message that says exactly which rule failed. */
export function assertPasswordAcceptable(password: string, email: string): void {
  const weak = (message: string) => new AppError('weak_password', message);
  if (password.length < passwordRules.minLength) {
    throw weak(`Use at least ${passwordRules.minLength} characters.`);
  }
  if (password.length > passwordRules.maxLength) {
    throw weak(`Use at most ${passwordRules.maxLength} characters.`);
  }
  const lowered = password.toLowerCase();
  if (lowered === email.toLowerCase() || lowered === email.split('@')[0]?.toLowerCase()) {
    throw weak('The password must not be your email address.');
  }
  if (commonPasswords.has(lowered) || /^(.)\1+$/.test(password)) {
    throw weak('This password is too common; choose another.');
  }
}
