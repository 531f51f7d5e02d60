import { randomBytes } from 'node:crypto';
import { VaultError } from './error';

/**
 * A KEK version is a positive integer (1, 2, 3, …), bumped by one at each rotation. It is written in
 * every sealed value so decryption can pick the right KEK while old and new coexist.
 */
export interface KekEntry {
  version: number;
  /** 32 bytes; see `parseKek` for the 64-hex-character form used in configuration. */
  key: Uint8Array;
}

export interface Keyring {
  /** The version every new seal and every rewrap uses. */
  readonly currentVersion: number;
  /** Every version this keyring can decrypt, current first. */
  readonly versions: readonly number[];
}

/** At most 9 digits, so a version is always a safe integer with one canonical decimal spelling. */
const maxVersion = 999_999_999;
const kekLength = 32;

// The keys live here rather than on the keyring, so logging or serialising a keyring leaks nothing.
const keysByKeyring = new WeakMap<Keyring, ReadonlyMap<number, Buffer>>();

export function isKekVersion(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= maxVersion;
}

export function createKeyring(options: { current: KekEntry; previous?: readonly KekEntry[] }): Keyring {
  const keys = new Map<number, Buffer>();
  for (const { version, key } of [options.current, ...(options.previous ?? [])]) {
    if (!isKekVersion(version)) {
      throw new VaultError('vault_invalid_kek', `KEK versions must be integers from 1 to ${maxVersion}`);
    }
    if (keys.has(version)) throw new VaultError('vault_invalid_kek', `KEK version ${version} is given twice`);
    if (key.length !== kekLength) {
      throw new VaultError('vault_invalid_kek', `KEK version ${version} must be ${kekLength} bytes`);
    }
    // A private copy: the caller may zero or reuse its buffer.
    keys.set(version, Buffer.from(key));
  }
  const keyring: Keyring = Object.freeze({
    currentVersion: options.current.version,
    versions: Object.freeze([...keys.keys()]),
  });
  keysByKeyring.set(keyring, keys);
  return keyring;
}

/** The KEK for `version`; throws `vault_unknown_kek` if this keyring does not hold it. */
export function kekFor(keyring: Keyring, version: number): Buffer {
  const key = keysByKeyring.get(keyring)?.get(version);
  if (!key) throw new VaultError('vault_unknown_kek', `KEK version ${version} is not in the keyring`);
  return key;
}

/** Parses a KEK written as 64 hex characters (32 bytes). Errors never repeat the value. */
export function parseKek(hex: string): Buffer {
  if (hex.length !== kekLength * 2) {
    throw new VaultError(
      'vault_invalid_kek',
      `a KEK must be ${kekLength * 2} hex characters; this one has ${hex.length}`,
    );
  }
  if (!/^[0-9a-fA-F]+$/.test(hex)) {
    throw new VaultError('vault_invalid_kek', 'a KEK must contain only hex characters (0-9, a-f)');
  }
  return Buffer.from(hex, 'hex');
}

/** A fresh random KEK as 64 hex characters, ready for the environment or a secret file. */
export function generateKek(): string {
  return randomBytes(kekLength).toString('hex');
}
