import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { VaultError } from './error';
import { type Keyring, kekFor } from './keyring';

/**
 * Envelope encryption of wallet secrets (AES-256-GCM, 12-byte random nonces, 16-byte tags).
 * Each seal draws a fresh 32-byte data key (DEK) that encrypts the secret; the current KEK wraps the DEK.
 *
 * Serialised form, one string for one text column, parts in unpadded base64url:
 *
 *   v1.<kekVersion>.<dekNonce>.<wrappedDek>.<dekTag>.<nonce>.<ciphertext>.<tag>
 *
 *   v1                         format version; any other is rejected
 *   kekVersion                 decimal KEK version that wrapped the DEK
 *   dekNonce.wrappedDek.dekTag the DEK under the KEK
 *   nonce.ciphertext.tag       the secret under the DEK
 *
 * Additional authenticated data binds both layers to the wallet row (id and public key), so a value
 * copied to another row fails to decrypt. The wrap layer also binds the KEK version. The secret layer
 * does not: a rotation re-wraps the DEK alone and must leave the secret's ciphertext as it is. That
 * loses nothing, since the secret layer's key is the DEK, which only the authenticated wrap layer yields.
 */

/** The wallet row a secret belongs to. */
export interface VaultBinding {
  walletId: string;
  /** base58 */
  publicKey: string;
}

interface Layer {
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

interface Envelope {
  kekVersion: number;
  dek: Layer;
  secret: Layer;
}

const format = 'v1';
const nonceLength = 12;
const tagLength = 16;
const dekLength = 32;

/** Encrypts `secret` for the wallet in `binding` under the keyring's current KEK. */
export function sealSecret(keyring: Keyring, secret: Uint8Array, binding: VaultBinding): string {
  const dek = randomBytes(dekLength);
  try {
    return serialise({
      kekVersion: keyring.currentVersion,
      dek: wrapDek(keyring, dek, binding),
      secret: encrypt(dek, secret, secretAad(binding)),
    });
  } finally {
    dek.fill(0);
  }
}

/** Decrypts a sealed secret; throws a `VaultError` if it is malformed, altered or not this wallet's. */
export function openSecret(keyring: Keyring, sealed: string, binding: VaultBinding): Uint8Array {
  const envelope = parse(sealed);
  const dek = unwrapDek(keyring, envelope, binding);
  try {
    return decrypt(dek, envelope.secret, secretAad(binding));
  } finally {
    dek.fill(0);
  }
}

/**
 * Re-wraps the DEK under the current KEK, keeping the secret's ciphertext. Returns `sealed` itself when
 * it already uses the current KEK, so a rotation can run row by row and be resumed. It authenticates
 * the wrap layer (and so the binding) but never decrypts the secret.
 */
export function rewrap(keyring: Keyring, sealed: string, binding: VaultBinding): string {
  const envelope = parse(sealed);
  if (envelope.kekVersion === keyring.currentVersion) return sealed;
  const dek = unwrapDek(keyring, envelope, binding);
  try {
    return serialise({
      kekVersion: keyring.currentVersion,
      dek: wrapDek(keyring, dek, binding),
      secret: envelope.secret,
    });
  } finally {
    dek.fill(0);
  }
}

/** The KEK version a sealed value is wrapped with (e.g. to count rows a rotation still has to do). */
export function kekVersionOf(sealed: string): number {
  return parse(sealed).kekVersion;
}

// JSON arrays keep the fields unambiguous; the label keeps the two layers apart.
function dekAad(kekVersion: number, { walletId, publicKey }: VaultBinding): Buffer {
  return Buffer.from(JSON.stringify([`tdk.vault.${format}`, 'dek', kekVersion, walletId, publicKey]));
}

function secretAad({ walletId, publicKey }: VaultBinding): Buffer {
  return Buffer.from(JSON.stringify([`tdk.vault.${format}`, 'secret', walletId, publicKey]));
}

function wrapDek(keyring: Keyring, dek: Buffer, binding: VaultBinding): Layer {
  const version = keyring.currentVersion;
  return encrypt(kekFor(keyring, version), dek, dekAad(version, binding));
}

function unwrapDek(keyring: Keyring, envelope: Envelope, binding: VaultBinding): Buffer {
  const kek = kekFor(keyring, envelope.kekVersion);
  return decrypt(kek, envelope.dek, dekAad(envelope.kekVersion, binding));
}

function encrypt(key: Buffer, plaintext: Uint8Array, aad: Buffer): Layer {
  const nonce = randomBytes(nonceLength);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: tagLength });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, ciphertext, tag: cipher.getAuthTag() };
}

function decrypt(key: Buffer, layer: Layer, aad: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, layer.nonce, { authTagLength: tagLength });
  decipher.setAAD(aad);
  decipher.setAuthTag(layer.tag);
  // GCM is a stream mode: update() yields every byte, final() only checks the tag. The bytes come
  // out before that check, so they are wiped if it fails.
  const plaintext = decipher.update(layer.ciphertext);
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    throw new VaultError(
      'vault_tamper',
      'sealed wallet secret failed authentication: it was altered, belongs to another wallet, or the KEK is wrong',
    );
  }
  return plaintext;
}

function serialise({ kekVersion, dek, secret }: Envelope): string {
  const parts = [dek.nonce, dek.ciphertext, dek.tag, secret.nonce, secret.ciphertext, secret.tag];
  return [format, String(kekVersion), ...parts.map((part) => part.toString('base64url'))].join('.');
}

function parse(sealed: string): Envelope {
  const parts = sealed.split('.');
  if (parts[0] !== format) malformed(`unknown format version (expected ${format})`);
  if (parts.length !== 8) malformed('expected 8 dot-separated parts');
  const [, version, dekNonce, wrappedDek, dekTag, nonce, ciphertext, tag] = parts;
  // One spelling per version (no leading zeros), at most 9 digits as the keyring allows.
  if (!version || !/^[1-9][0-9]{0,8}$/.test(version)) malformed('bad KEK version');
  return {
    kekVersion: Number(version),
    dek: {
      nonce: decode(dekNonce, nonceLength),
      ciphertext: decode(wrappedDek, dekLength),
      tag: decode(dekTag, tagLength),
    },
    secret: {
      nonce: decode(nonce, nonceLength),
      ciphertext: decode(ciphertext),
      tag: decode(tag, tagLength),
    },
  };
}

function decode(part: string | undefined, length?: number): Buffer {
  const bytes = Buffer.from(part ?? '', 'base64url');
  // Buffer.from skips characters outside the alphabet; re-encoding catches them and non-canonical tails.
  if (bytes.toString('base64url') !== part) malformed('a part is not canonical base64url');
  if (length !== undefined && bytes.length !== length) malformed('a part has the wrong length');
  return bytes;
}

// Never quotes the input: a mis-stored column could hold a plaintext secret.
function malformed(reason: string): never {
  throw new VaultError('vault_malformed', `sealed wallet secret is malformed: ${reason}`);
}
