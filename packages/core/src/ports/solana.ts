/**
 * The Solana port: what TDK needs from a chain to fund wallets from the treasury and pay agents in
 * USDC. Adapters live in `@tdk/chain` (LiteSVM in process, or a JSON-RPC endpoint). Plain types only:
 * public keys are base58 strings, amounts are integers in base units (lamports, USDC micro-units).
 */

export type SolanaNetwork = 'embedded' | 'localnet' | 'devnet' | 'mainnet-beta';

/** An ed25519 keypair; `secretKey` is the 64-byte Solana secret (seed followed by public key). */
export interface Signer {
  publicKey: string;
  secretKey: Uint8Array;
}

export interface Balances {
  lamports: bigint;
  /** The owner's associated USDC token account; 0 when it does not exist yet. */
  usdc: bigint;
}

export interface UsdcTransfer {
  /** The recipient's wallet (owner); its associated token account is created when missing. */
  to: string;
  amount: bigint;
}

/** One confirmed transaction. */
export interface Movement {
  signature: string;
  /**
   * Exactly what the fee payer's SOL balance dropped by in this transaction: network fee (5,000
   * lamports per signature), priority fee, rent of the accounts it created, and, for `transferSol`,
   * the lamports sent. The ledger books this, so it agrees with the chain to the lamport.
   */
  lamportsSpent: bigint;
}

export type TransactionStatus = 'confirmed' | 'failed' | 'unknown';

export interface BeforeSend {
  /**
   * Called with the transaction's signature once it is signed and before it is sent; if it throws,
   * nothing is sent. Lets the caller write down what it is about to do, so a crash right after the
   * send can be settled from the chain later.
   */
  beforeSend?: (signature: string) => Promise<void>;
}

export interface SolanaPort {
  readonly network: SolanaNetwork;
  readonly usdcMint: string;
  readonly usdcDecimals: number;
  balances(owner: string): Promise<Balances>;
  /**
   * `memo` (SPL Memo) labels the transaction and makes it unique: two transfers with the same payer,
   * recipients and amounts signed against the same blockhash are one and the same transaction on
   * Solana, so pass a unique memo (e.g. the ledger entry id) whenever that can happen.
   */
  transferSol(
    input: { from: Signer; to: string; lamports: bigint; memo?: string } & BeforeSend,
  ): Promise<Movement>;
  /**
   * One atomic transaction: per recipient, create its associated token account if missing (paid by
   * `from`), then `TransferChecked` from `from`'s associated token account. This is how an agent is paid.
   */
  transferUsdc(
    input: { from: Signer; transfers: UsdcTransfer[]; memo?: string } & BeforeSend,
  ): Promise<Movement>;
  /** A recent blockhash to build a transaction on, and the last block height it can land at. */
  latestBlockhash(): Promise<{ blockhash: string; lastValidBlockHeight: number }>;
  /**
   * Sends a transaction someone else built and signed (base64 wire bytes), as the Tetto flow does
   * with a payment the caller signed, and waits for it like the movements above: same confirmation,
   * resending and expiry, same errors, exact `lamportsSpent`. Throws RangeError, before sending,
   * when it is not a transaction or lacks a valid signature.
   */
  submitSigned(serializedBase64: string): Promise<Movement>;
  /**
   * The fee payer's exact SOL drop in a landed transaction (confirmed or failed), from its own
   * balances. ChainError `unreachable` when the chain does not return it (never landed, or forgotten).
   */
  lamportsSpentOf(signature: string): Promise<bigint>;
  /** `unknown`: never seen, not confirmed yet, or forgotten by an RPC node. */
  transactionStatus(signature: string): Promise<TransactionStatus>;
  /** Resolves when the chain answers; for /readyz. */
  ping(): Promise<void>;
}

/**
 * - `insufficient_funds`: the payer lacks SOL (fee, rent, amount) or USDC; `asset` says which.
 * - `expired`: the transaction's blockhash expired before it was confirmed, so it can no longer be
 *   included; build and sign a new one to try again.
 * - `rejected`: the chain refused the transaction; `transactionError` is the chain's own error.
 * - `unreachable`: the chain could not be asked (RPC down, timed out, answered with an error).
 */
export type ChainErrorCode = 'insufficient_funds' | 'expired' | 'rejected' | 'unreachable';

export class ChainError extends Error {
  override readonly name = 'ChainError';
  readonly code: ChainErrorCode;
  readonly asset: 'sol' | 'usdc' | undefined;
  /** The chain's error in Solana JSON-RPC form, e.g. `{ InstructionError: [1, { Custom: 1 }] }`. */
  readonly transactionError: unknown;
  /**
   * Set once the transaction was sent. With `lamportsSpent` also set, it landed and failed, and the
   * payer still paid that much. Without it (`unreachable` mid-confirmation), it may yet land: ask
   * `transactionStatus(signature)` before trying again. `expired` ones never land.
   */
  readonly signature: string | undefined;
  readonly lamportsSpent: bigint | undefined;

  constructor(
    code: ChainErrorCode,
    message: string,
    options: {
      asset?: 'sol' | 'usdc';
      transactionError?: unknown;
      signature?: string;
      lamportsSpent?: bigint;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.asset = options.asset;
    this.transactionError = options.transactionError;
    this.signature = options.signature;
    this.lamportsSpent = options.lamportsSpent;
  }
}

export const isChainError = (error: unknown): error is ChainError => error instanceof ChainError;

/** An account as the embedded chain persists it. */
export interface ChainAccount {
  address: string;
  lamports: bigint;
  /** The owning program. */
  owner: string;
  executable: boolean;
  data: Uint8Array;
}

/**
 * Where the embedded chain keeps its accounts across restarts. `save` receives the accounts a
 * transaction wrote (full state, upsert by address); calls arrive in order, one at a time.
 */
export interface ChainSnapshotStore {
  load(): Promise<ChainAccount[]>;
  /**
   * Saves the accounts a transaction wrote together with that transaction's record, atomically (a
   * landed transaction always wrote at least its fee payer); or accounts alone, e.g. an airdrop.
   */
  save(accounts: ChainAccount[], transaction?: SavedTransaction): Promise<void>;
  /** A landed transaction saved earlier, e.g. before a restart. */
  transaction(signature: string): Promise<SavedTransaction | undefined>;
}

/** A landed transaction as the embedded chain persists it. */
export interface SavedTransaction {
  signature: string;
  failed: boolean;
  /** The payer's SOL drop. */
  lamportsSpent: bigint;
}
