import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { kekVersionOf, openSecret, rewrap, sealSecret, type VaultBinding } from './envelope';
import { createKeyring, generateKek, parseKek } from './keyring';
import { vaultError } from './test-support';

const kek1 = parseKek(generateKek());
const kek2 = parseKek(generateKek());
const onlyKek1 = createKeyring({ current: { version: 1, key: kek1 } });
const rotating = createKeyring({ current: { version: 2, key: kek2 }, previous: [{ version: 1, key: kek1 }] });
const onlyKek2 = createKeyring({ current: { version: 2, key: kek2 } });

const wallet: VaultBinding = {
  walletId: 'wal_aaaaaaaaaaaaaaaaaaaaaaaaaa',
  publicKey: '7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV',
};

/** Flips one bit in the given base64url part (0 = format version, 1 = KEK version, 2… = byte parts). */
function tamper(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index] ?? '', 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('sealSecret / openSecret', () => {
  it('round-trips a 64-byte secret', () => {
    const secret = randomBytes(64);
    const sealed = sealSecret(onlyKek1, secret, wallet);
    expect(sealed).toMatch(/^v1\.1(\.[\w-]+){6}$/);
    expect(Buffer.from(openSecret(onlyKek1, sealed, wallet))).toEqual(secret);
  });

  it('uses fresh randomness each time', () => {
    const secret = randomBytes(64);
    expect(sealSecret(onlyKek1, secret, wallet)).not.toBe(sealSecret(onlyKek1, secret, wallet));
  });

  it('stores no plaintext secret bytes', () => {
    const secret = randomBytes(64);
    const sealed = sealSecret(onlyKek1, secret, wallet);
    for (const encoding of ['base64url', 'base64', 'hex'] as const) {
      // Any 12-byte window would do: look for each one, not just the whole secret.
      for (let start = 0; start + 12 <= secret.length; start += 12) {
        const window = secret.subarray(start, start + 12).toString(encoding);
        expect(sealed.toLowerCase()).not.toContain(window.toLowerCase());
      }
    }
  });

  it.each([
    ['DEK nonce', 2],
    ['wrapped DEK', 3],
    ['DEK tag', 4],
    ['secret nonce', 5],
    ['ciphertext', 6],
    ['secret tag', 7],
  ])('fails loudly when the %s is altered', (_, index) => {
    const secret = randomBytes(64);
    const sealed = sealSecret(onlyKek1, secret, wallet);
    const error = vaultError(() => openSecret(onlyKek1, tamper(sealed, index), wallet));
    expect(error.code).toBe('vault_tamper');
    expect(error.message).not.toContain(secret.toString('hex'));
    expect(error.message).not.toContain(kek1.toString('hex'));
  });

  it('fails when the KEK version (authenticated data) is changed, even to a KEK with the same bytes', () => {
    const sameKeyTwice = createKeyring({
      current: { version: 2, key: kek1 },
      previous: [{ version: 1, key: kek1 }],
    });
    const sealed = sealSecret(onlyKek1, randomBytes(64), wallet);
    const relabelled = sealed.replace(/^v1\.1\./, 'v1.2.');
    expect(vaultError(() => openSecret(sameKeyTwice, relabelled, wallet)).code).toBe('vault_tamper');
  });

  it.each([
    ['wallet id', { ...wallet, walletId: 'wal_bbbbbbbbbbbbbbbbbbbbbbbbbb' }],
    ['public key', { ...wallet, publicKey: '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin' }],
  ])('fails when opened for another %s', (_, other) => {
    const sealed = sealSecret(onlyKek1, randomBytes(64), wallet);
    expect(vaultError(() => openSecret(onlyKek1, sealed, other)).code).toBe('vault_tamper');
    expect(vaultError(() => rewrap(rotating, sealed, other)).code).toBe('vault_tamper');
  });

  it('fails when the secret layer is moved under another wallet’s wrapped DEK', () => {
    const other = { ...wallet, walletId: 'wal_bbbbbbbbbbbbbbbbbbbbbbbbbb' };
    const mine = sealSecret(onlyKek1, randomBytes(64), wallet).split('.');
    const theirs = sealSecret(onlyKek1, randomBytes(64), other).split('.');
    const spliced = [...mine.slice(0, 5), ...theirs.slice(5)].join('.');
    expect(vaultError(() => openSecret(onlyKek1, spliced, wallet)).code).toBe('vault_tamper');
  });

  it('fails with vault_unknown_kek for a KEK version the keyring lacks', () => {
    const sealed = sealSecret(onlyKek2, randomBytes(64), wallet);
    const error = vaultError(() => openSecret(onlyKek1, sealed, wallet));
    expect(error.code).toBe('vault_unknown_kek');
    expect(error.message).toContain('version 2');
  });

  it('fails with the wrong KEK under the right version', () => {
    const impostor = createKeyring({ current: { version: 1, key: kek2 } });
    const sealed = sealSecret(onlyKek1, randomBytes(64), wallet);
    expect(vaultError(() => openSecret(impostor, sealed, wallet)).code).toBe('vault_tamper');
  });
});

describe('parsing', () => {
  const sealed = sealSecret(onlyKek1, randomBytes(64), wallet);
  const parts = sealed.split('.');

  it.each([
    ['an empty string', ''],
    ['another format version', sealed.replace(/^v1\./, 'v2.')],
    ['a raw base64 secret', randomBytes(64).toString('base64')],
    ['a missing part', parts.slice(0, 7).join('.')],
    ['an extra part', `${sealed}.AAAA`],
    ['KEK version 0', sealed.replace(/^v1\.1\./, 'v1.0.')],
    ['a KEK version with a leading zero', sealed.replace(/^v1\.1\./, 'v1.01.')],
    ['a KEK version that is not a number', sealed.replace(/^v1\.1\./, 'v1.one.')],
    ['characters outside base64url', [...parts.slice(0, 6), `${parts[6]}+`, parts[7]].join('.')],
    ['padding', [...parts.slice(0, 6), `${parts[6]}==`, parts[7]].join('.')],
    ['a short nonce', [...parts.slice(0, 5), parts[5]?.slice(0, 12), ...parts.slice(6)].join('.')],
  ])('rejects %s as malformed without quoting it', (_, input) => {
    for (const use of [
      () => openSecret(onlyKek1, input, wallet),
      () => rewrap(onlyKek1, input, wallet),
      () => kekVersionOf(input),
    ]) {
      const error = vaultError(use);
      expect(error.code).toBe('vault_malformed');
      for (const part of input.split('.').filter((part) => part.length > 4)) {
        expect(error.message).not.toContain(part);
      }
    }
  });

  it('names the format version when it is not v1', () => {
    const error = vaultError(() => kekVersionOf(sealed.replace(/^v1\./, 'v2.')));
    expect(error.message).toContain('unknown format version');
  });
});

describe('KEK rotation', () => {
  it('opens values sealed under the old and the new KEK while both are in the keyring', () => {
    const oldSecret = randomBytes(64);
    const newSecret = randomBytes(64);
    const old = sealSecret(onlyKek1, oldSecret, wallet);
    const fresh = sealSecret(rotating, newSecret, wallet);
    expect(kekVersionOf(old)).toBe(1);
    expect(kekVersionOf(fresh)).toBe(2);
    expect(Buffer.from(openSecret(rotating, old, wallet))).toEqual(oldSecret);
    expect(Buffer.from(openSecret(rotating, fresh, wallet))).toEqual(newSecret);
  });

  it('rewraps onto the current KEK without touching the secret layer, so the old KEK can go', () => {
    const secret = randomBytes(64);
    const old = sealSecret(onlyKek1, secret, wallet);
    const moved = rewrap(rotating, old, wallet);
    expect(kekVersionOf(moved)).toBe(2);
    expect(moved.split('.').slice(5)).toEqual(old.split('.').slice(5));
    expect(Buffer.from(openSecret(onlyKek2, moved, wallet))).toEqual(secret);
    expect(vaultError(() => openSecret(onlyKek1, moved, wallet)).code).toBe('vault_unknown_kek');
  });

  it('is idempotent: a current value comes back as the same string', () => {
    const old = sealSecret(onlyKek1, randomBytes(64), wallet);
    const moved = rewrap(rotating, old, wallet);
    expect(rewrap(rotating, moved, wallet)).toBe(moved);
    const fresh = sealSecret(rotating, randomBytes(64), wallet);
    expect(rewrap(rotating, fresh, wallet)).toBe(fresh);
  });
});
