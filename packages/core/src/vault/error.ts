/**
 * Raised by the wallet vault. The codes are stable so callers and alerts can switch on them. These are
 * not `AppError`s on purpose: a vault failure is an operator problem (wrong KEK, corrupt or moved row),
 * and the API shows it to clients as a bare `internal_error`.
 *
 * Messages never contain key material, plaintext or the sealed value.
 */
export type VaultErrorCode =
  /** The sealed value is not a well-formed `v1` envelope (or is another format version). */
  | 'vault_malformed'
  /** The sealed value names a KEK version the keyring does not hold. */
  | 'vault_unknown_kek'
  /** Authentication failed: the value was altered, moved to another wallet, or the KEK is wrong. */
  | 'vault_tamper'
  /** A KEK or keyring given to the vault is invalid (length, encoding, version). */
  | 'vault_invalid_kek';

export class VaultError extends Error {
  override readonly name = 'VaultError';
  readonly code: VaultErrorCode;

  constructor(code: VaultErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
