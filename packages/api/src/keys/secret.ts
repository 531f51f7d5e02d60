import { createHash, randomBytes } from 'node:crypto';
import bs58 from 'bs58';

export type KeyEnvironment = 'test' | 'live';

/** `tdk_test_…` / `tdk_live_…` followed by 24 random bytes (192 bits) in base58. */
export function generateKeySecret(environment: KeyEnvironment): string {
  return `tdk_${environment}_${bs58.encode(randomBytes(24))}`;
}

export const looksLikeApiKey = (credential: string): boolean => /^tdk_(test|live)_/.test(credential);

/**
 * API keys are high-entropy secrets, not passwords: a fast SHA-256 is the right hash (a slow one
 * would only slow every call). Lookups go by hash, so comparing secrets never happens in user code.
 */
export const hashKeySecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** What lists show: the prefix and the last four characters. */
export const keyHint = (secret: string): string => `${secret.slice(0, 9)}…${secret.slice(-4)}`;
