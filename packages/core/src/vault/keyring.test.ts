import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createKeyring, generateKek, kekFor, parseKek } from './keyring';
import { vaultError } from './test-support';

describe('parseKek', () => {
  it('reads 64 hex characters as 32 bytes, in either case', () => {
    const hex = generateKek();
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
    expect(parseKek(hex).toString('hex')).toBe(hex);
    expect(parseKek(hex.toUpperCase()).toString('hex')).toBe(hex);
  });

  it('does not repeat generated KEKs', () => {
    expect(generateKek()).not.toBe(generateKek());
  });

  it.each([
    ['too short', 'ab'.repeat(31)],
    ['too long', 'ab'.repeat(33)],
    ['a trailing newline', `${'ab'.repeat(32)}\n`],
    ['a non-hex character', `${'ab'.repeat(31)}zz`],
    ['base64 of 32 bytes', Buffer.alloc(32, 7).toString('base64').padEnd(64, 'Q')],
  ])('rejects %s without echoing it', (_, input) => {
    const error = vaultError(() => parseKek(input));
    expect(error.code).toBe('vault_invalid_kek');
    expect(error.message).not.toContain(input.trim());
    expect(error.message).not.toContain(input.slice(0, 16));
  });
});

describe('createKeyring', () => {
  const kek1 = parseKek(generateKek());
  const kek2 = parseKek(generateKek());

  it('holds the current and previous KEKs, current first', () => {
    const keyring = createKeyring({
      current: { version: 2, key: kek2 },
      previous: [{ version: 1, key: kek1 }],
    });
    expect(keyring.currentVersion).toBe(2);
    expect(keyring.versions).toEqual([2, 1]);
    expect(kekFor(keyring, 1)).toEqual(kek1);
    expect(vaultError(() => kekFor(keyring, 3)).code).toBe('vault_unknown_kek');
  });

  it('keeps its own copy of each key', () => {
    const key = Buffer.from(kek1);
    const keyring = createKeyring({ current: { version: 1, key } });
    key.fill(0);
    expect(kekFor(keyring, 1)).toEqual(kek1);
  });

  it('shows no key material when logged or serialised', () => {
    const keyring = createKeyring({ current: { version: 1, key: kek1 } });
    expect(JSON.stringify(keyring)).toBe('{"currentVersion":1,"versions":[1]}');
    expect(inspect(keyring, { showHidden: true, depth: null })).not.toContain('Buffer');
  });

  it.each([0, -1, 1.5, 1_000_000_000])('rejects KEK version %s', (version) => {
    expect(vaultError(() => createKeyring({ current: { version, key: kek1 } })).code).toBe(
      'vault_invalid_kek',
    );
  });

  it('rejects a version given twice', () => {
    const error = vaultError(() =>
      createKeyring({ current: { version: 1, key: kek1 }, previous: [{ version: 1, key: kek2 }] }),
    );
    expect(error.code).toBe('vault_invalid_kek');
  });

  it('rejects a key that is not 32 bytes, without showing it', () => {
    const key = Buffer.alloc(31, 0xab);
    const error = vaultError(() => createKeyring({ current: { version: 1, key } }));
    expect(error.code).toBe('vault_invalid_kek');
    expect(error.message).not.toContain(key.toString('hex'));
  });
});
