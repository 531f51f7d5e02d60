import { createPrivateKey, type KeyObject } from 'node:crypto';
import { Keypair, PublicKey } from '@solana/web3.js';
import type { Signer } from '@tdk/core';
import bs58 from 'bs58';
import { Memo } from './memo';

/** A new random ed25519 keypair, e.g. for an API key's dedicated wallet. */
export function generateKeypair(): Signer {
  const keypair = Keypair.generate();
  return { publicKey: keypair.publicKey.toBase58(), secretKey: keypair.secretKey };
}

/** The base58 public key of a 64-byte secret (throws if its two halves do not match). */
export function publicKeyOf(secretKey: Uint8Array): string {
  return Keypair.fromSecretKey(secretKey).publicKey.toBase58();
}

/**
 * A secret key as wallets export it: base58 (Phantom, Solflare) or a JSON array of 64 bytes
 * (solana-keygen's id.json). Errors never repeat the input.
 */
export function parseSecretKey(text: string): Signer {
  const trimmed = text.trim();
  let bytes: Uint8Array;
  try {
    bytes = trimmed.startsWith('[') ? jsonBytes(trimmed) : bs58.decode(trimmed);
  } catch {
    throw new RangeError('secret key: expected base58 or a JSON array of 64 bytes');
  }
  if (bytes.length !== 64) throw new RangeError(`secret key: expected 64 bytes, got ${bytes.length}`);
  try {
    const keypair = Keypair.fromSecretKey(bytes);
    return { publicKey: keypair.publicKey.toBase58(), secretKey: keypair.secretKey };
  } catch {
    throw new RangeError('secret key: its public half does not match its private half');
  }
}

function jsonBytes(text: string): Uint8Array {
  const values: unknown = JSON.parse(text);
  const isByte = (value: unknown) =>
    Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 255;
  if (!Array.isArray(values) || !values.every(isByte)) throw new RangeError('not a byte array');
  return Uint8Array.from(values as number[]);
}

export function toKeypair(signer: Signer): Keypair {
  const { secretKey } = signer;
  if (secretKey.byteLength !== 64) throw new Error('bad secret key size');
  // Keypair.fromSecretKey would check the public half with a pure-JS curve multiplication on every
  // call (every payment); Node derives it natively, with the same outcome and the same error.
  const privateKey = ed25519PrivateKey(secretKey);
  if (privateKey?.export({ format: 'jwk' }).x !== base64url(secretKey.subarray(32, 64))) {
    throw new Error('provided secretKey is invalid');
  }
  const keypair = Keypair.fromSecretKey(secretKey, { skipValidation: true });
  if (!keypair.publicKey.equals(toPublicKey(signer.publicKey, 'signer'))) {
    throw new RangeError('signer: publicKey does not match secretKey');
  }
  privateKeys.set(keypair, privateKey);
  return keypair;
}

const base64url = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');

/**
 * A 64-byte Solana secret (seed, public key) as a Node key. Imported as a JWK: ~13x faster than a
 * PKCS#8 DER import (OpenSSL 3's decoders, ~1 ms). OpenSSL derives the public key from the seed
 * (`d`) and does not take `x` from the JWK, so callers check the derived one, exported, themselves.
 */
function ed25519PrivateKey(secretKey: Uint8Array): KeyObject | undefined {
  const d = base64url(secretKey.subarray(0, 32));
  const x = base64url(secretKey.subarray(32, 64));
  try {
    return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d, x }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/** Each keypair's Node key, built once; weakly held, so it lives no longer than the keypair. */
const privateKeys = new WeakMap<Keypair, KeyObject>();

/** The keypair's secret as a Node KeyObject, for native ed25519 signing (`crypto.sign`). */
export function privateKeyOf(keypair: Keypair): KeyObject {
  let privateKey = privateKeys.get(keypair);
  if (!privateKey) {
    // A keypair not made by toKeypair (e.g. Keypair.generate()): web3.js made sure of its halves.
    privateKey = ed25519PrivateKey(keypair.secretKey);
    if (!privateKey) throw new Error('provided secretKey is invalid');
    privateKeys.set(keypair, privateKey);
  }
  return privateKey;
}

/** Encoded addresses remembered (~7 µs each to encode): the same accounts are saved on every payment. */
const addresses = new Memo<string>(10_000);

/** A 32-byte key in base58, as `new PublicKey(key).toBase58()`. */
export function addressOf(key: Uint8Array): string {
  const id = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
  return addresses.get(id, () => bs58.encode(key));
}

/** Decoded keys remembered (~20 µs each to decode): payers and recipients recur on every payment. */
const publicKeys = new Memo<PublicKey>(10_000);

export function toPublicKey(value: string, what: string): PublicKey {
  try {
    return publicKeys.get(value, () => new PublicKey(value));
  } catch {
    throw new RangeError(`${what}: not a base58 public key: ${JSON.stringify(value)}`);
  }
}
