import bs58 from 'bs58';
import { describe, expect, it } from 'vitest';
import { generateKeypair, parseSecretKey, publicKeyOf, toKeypair } from './keys';

describe('keypairs', () => {
  it('generates ed25519 keypairs whose public key derives from the secret', () => {
    const signer = generateKeypair();
    expect(signer.secretKey).toHaveLength(64);
    expect(publicKeyOf(signer.secretKey)).toBe(signer.publicKey);
    expect(generateKeypair().publicKey).not.toBe(signer.publicKey);
  });

  it('reads a secret key in base58 or as a JSON byte array', () => {
    const signer = generateKeypair();
    expect(parseSecretKey(bs58.encode(signer.secretKey))).toEqual(signer);
    expect(parseSecretKey(` ${JSON.stringify([...signer.secretKey])}\n`)).toEqual(signer);
  });

  it('refuses malformed secrets without repeating them', () => {
    const signer = generateKeypair();
    const tampered = signer.secretKey.slice();
    tampered[40] = (tampered[40]! + 1) % 256;
    for (const text of [
      bs58.encode(signer.secretKey.subarray(0, 32)),
      bs58.encode(tampered),
      JSON.stringify([...signer.secretKey.subarray(0, 63), 256]),
      'not base58 0OIl',
    ]) {
      expect(() => parseSecretKey(text)).toThrow(RangeError);
      try {
        parseSecretKey(text);
      } catch (error) {
        expect((error as Error).message).not.toContain(text.slice(0, 12));
      }
    }
  });

  it('refuses a signer whose public key is not its secret’s', () => {
    const signer = { ...generateKeypair(), publicKey: generateKeypair().publicKey };
    expect(() => toKeypair(signer)).toThrow(RangeError);
  });
});
