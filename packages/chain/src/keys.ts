import { Keypair, PublicKey } from '@solana/web3.js';
import type { Signer } from '@tdk/core';
import bs58 from 'bs58';

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
  const keypair = Keypair.fromSecretKey(signer.secretKey);
  if (!keypair.publicKey.equals(toPublicKey(signer.publicKey, 'signer'))) {
    throw new RangeError('signer: publicKey does not match secretKey');
  }
  return keypair;
}

export function toPublicKey(value: string, what: string): PublicKey {
  try {
    return new PublicKey(value);
  } catch {
    throw new RangeError(`${what}: not a base58 public key: ${JSON.stringify(value)}`);
  }
}
