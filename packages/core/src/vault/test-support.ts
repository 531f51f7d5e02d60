import { VaultError } from './error';

/** The VaultError `fn` throws; fails the test if it throws anything else, or nothing. */
export function vaultError(fn: () => unknown): VaultError {
  try {
    fn();
  } catch (error) {
    if (error instanceof VaultError) return error;
    throw error;
  }
  throw new Error('expected a VaultError');
}
