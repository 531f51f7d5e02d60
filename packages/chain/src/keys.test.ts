import { Keypair, SystemProgram, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import bs58 from 'bs58';
import { describe, expect, it } from 'vitest';
import { generateKeypair, parseSecretKey, publicKeyOf, toKeypair } from './keys';
import { memoInstruction, signTransaction } from './transactions';

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

  it('refuses, as web3.js does, a secret whose two halves do not match or of the wrong size', () => {
    const signer = generateKeypair();
    const tampered = signer.secretKey.slice();
    tampered[40] = (tampered[40]! + 1) % 256;
    const expected = () => Keypair.fromSecretKey(tampered);
    expect(expected).toThrow('provided secretKey is invalid');
    expect(() => toKeypair({ ...signer, secretKey: tampered })).toThrow('provided secretKey is invalid');
    expect(() => toKeypair({ ...signer, secretKey: signer.secretKey.subarray(0, 32) })).toThrow(
      'bad secret key size',
    );
    expect(toKeypair(signer).secretKey).toEqual(signer.secretKey);
  });

  it('signs natively with the very signatures web3.js (@noble) makes: ed25519 is deterministic', () => {
    for (let i = 0; i < 20; i++) {
      const payer = toKeypair(generateKeypair());
      const other = Keypair.generate();
      const instructions = [
        SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: other.publicKey, lamports: 1n }),
        SystemProgram.transfer({ fromPubkey: other.publicKey, toPubkey: payer.publicKey, lamports: 2n }),
        memoInstruction(`memo ${i}`),
      ];
      const blockhash = bs58.encode(Keypair.generate().publicKey.toBytes());
      const native = signTransaction(instructions, [payer, other], blockhash);

      const message = new TransactionMessage({
        payerKey: payer.publicKey,
        recentBlockhash: blockhash,
        instructions,
      });
      const reference = new VersionedTransaction(message.compileToLegacyMessage());
      reference.sign([payer, other]);

      expect(native.transaction.signatures).toEqual(reference.signatures);
      expect(native.bytes).toEqual(reference.serialize());
      expect(native.signature).toBe(bs58.encode(reference.signatures[0]!));
    }
  });
});
