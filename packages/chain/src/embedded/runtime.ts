import {
  createAssociatedTokenAccountIdempotentInstruction,
  createInitializeMint2Instruction,
  createMintToCheckedInstruction,
  MINT_SIZE,
  MintLayout,
  TOKEN_PROGRAM_ID,
} from '@solana/spl-token';
import {
  Keypair,
  LAMPORTS_PER_SOL,
  type PublicKey,
  SystemProgram,
  type TransactionInstruction,
  type VersionedTransaction,
} from '@solana/web3.js';
import type { ChainAccount, ChainSnapshotStore, SavedTransaction, Signer } from '@tdk/core';
import type { TransactionErrorJson } from '../errors';
import { addressOf, toKeypair, toPublicKey } from '../keys';
import {
  associatedTokenAddress,
  type Blockhash,
  type SignedTransaction,
  signTransaction,
  USDC_DECIMALS,
} from '../transactions';
import { transactionErrorJson } from './litesvm-errors';
import { type ChainView, surelySucceeds } from './precheck';
import {
  FailedTransactionMetadata,
  LiteSvm,
  readAccount,
  sendTransaction,
  simulateTransaction,
  writeAccount,
} from './svm';

/** A blockhash stays usable for this many blocks after it was issued, as on Solana. */
const BLOCKHASH_VALIDITY = 150;
/** Landed transactions remembered for status queries; far more than one validity window. */
const HISTORY_LIMIT = 10_000;
/** The mint authority pays mint rent and token-account rent when funding; refilled below this. */
const AUTHORITY_FLOOR = BigInt(LAMPORTS_PER_SOL);

export interface LandedTransaction {
  signature: string;
  slot: number;
  transaction: VersionedTransaction;
  err: TransactionErrorJson | null;
  /** Lamports of the message's account keys, in order, before and after. */
  preBalances: bigint[];
  postBalances: bigint[];
  logs: string[];
  computeUnits: bigint;
}

export type Submission =
  | { landed: true; record: LandedTransaction }
  | { landed: false; err: TransactionErrorJson; logs: string[] };

export interface RuntimeOptions {
  /**
   * The USDC-like mint and its mint authority. Pass the same keypairs on every start to keep the
   * mint, and so every USDC balance, across restarts; generated when omitted.
   */
  mint?: { mint: Signer; authority: Signer };
  /** Restores accounts on start and receives the accounts each transaction wrote. */
  snapshotStore?: ChainSnapshotStore;
}

/**
 * One Solana chain in this process, on LiteSVM, shared by the embedded adapter and the local
 * JSON-RPC server. LiteSVM has no blocks, so this adds them: every landed transaction closes a block
 * and starts a new blockhash, valid for 150 blocks (LiteSVM's own check only knows the latest one,
 * and its own history is off: this keeps the window and the history, like a validator).
 */
export class LocalRuntime {
  readonly usdcMint: PublicKey;
  private readonly svm = new LiteSvm();
  private height = 0;
  /** Usable blockhashes and the last block height each is valid at. */
  private readonly blockhashes = new Map<string, number>();
  private readonly history = new Map<string, LandedTransaction>();
  private saving: Promise<void> = Promise.resolve();
  /** What the pre-check reads. */
  private readonly view: ChainView;

  private constructor(
    private readonly mint: Keypair,
    private readonly authority: Keypair,
    private readonly store: ChainSnapshotStore | undefined,
  ) {
    this.usdcMint = mint.publicKey;
    this.view = chainView(this.svm, this.usdcMint);
    this.svm.setBlockhashCheck(false);
    this.svm.setTransactionHistory(0n);
    this.blockhashes.set(this.svm.latestBlockhash(), BLOCKHASH_VALIDITY);
  }

  static async create(options: RuntimeOptions = {}): Promise<LocalRuntime> {
    const { mint, snapshotStore } = options;
    if (snapshotStore && !mint) {
      throw new TypeError('snapshotStore needs the mint keypairs: a new mint would not hold the saved USDC');
    }
    const runtime = new LocalRuntime(
      mint ? toKeypair(mint.mint) : Keypair.generate(),
      mint ? toKeypair(mint.authority) : Keypair.generate(),
      snapshotStore,
    );
    for (const account of (await snapshotStore?.load()) ?? []) runtime.restore(account);
    await runtime.ensureMint();
    return runtime;
  }

  get blockHeight(): number {
    return this.height;
  }

  latestBlockhash(): Blockhash {
    const blockhash = this.svm.latestBlockhash();
    return { blockhash, lastValidBlockHeight: this.blockhashes.get(blockhash)! };
  }

  /** Closes `count` blocks at once; blockhashes older than the validity window expire. */
  advanceBlocks(count: number): void {
    this.height += count;
    this.svm.expireBlockhash();
    this.blockhashes.set(this.svm.latestBlockhash(), this.height + BLOCKHASH_VALIDITY);
    // Oldest first: each blockhash was added valid for longer than the ones before it.
    for (const [blockhash, lastValid] of this.blockhashes) {
      if (lastValid >= this.height) break;
      this.blockhashes.delete(blockhash);
    }
  }

  /** `bytes`: the transaction's wire form, if at hand. */
  simulate(
    transaction: VersionedTransaction,
    bytes?: Uint8Array,
  ): {
    err: TransactionErrorJson | null;
    logs: string[];
    computeUnits: bigint;
  } {
    if (this.isExpired(transaction)) return { err: 'BlockhashNotFound', logs: [], computeUnits: 0n };
    const result = simulateTransaction(this.svm, { transaction, bytes: bytes ?? transaction.serialize() });
    const meta = result.meta();
    const err = result instanceof FailedTransactionMetadata ? transactionErrorJson(result.err()) : null;
    return { err, logs: meta.logs(), computeUnits: meta.computeUnitsConsumed() };
  }

  /**
   * Runs a signed transaction. `preflight` makes sure a failing one costs nothing: by simulating it
   * first, unless a payment the pre-check understands is plainly affordable (see `precheck.ts`).
   * Nothing can run in between: LiteSVM is synchronous, and so is everything up to sending.
   */
  async submit(signed: SignedTransaction, { preflight }: { preflight: boolean }): Promise<Submission> {
    const { signature, transaction } = signed;
    if (this.history.has(signature)) return { landed: false, err: 'AlreadyProcessed', logs: [] };
    if (this.isExpired(transaction)) return { landed: false, err: 'BlockhashNotFound', logs: [] };
    const { message } = transaction;
    if (preflight && !this.surelySucceeds(transaction)) {
      const simulated = this.simulate(transaction, signed.bytes);
      if (simulated.err !== null) return { landed: false, err: simulated.err, logs: simulated.logs };
    }

    const keys = message.staticAccountKeys;
    const preBalances = keys.map((key) => this.lamports(key));
    const result = sendTransaction(this.svm, signed);
    // A transaction cannot change a read-only account's lamports (the runtime refuses it).
    const postBalances = keys.map((key, index) =>
      message.isAccountWritable(index) ? this.lamports(key) : preBalances[index]!,
    );
    const failed = result instanceof FailedTransactionMetadata;
    const meta = failed ? result.meta() : result;
    const err = failed ? transactionErrorJson(result.err()) : null;
    // Refused before execution (e.g. the fee could not be paid), it leaves no trace on the chain;
    // failed during execution, it landed and the payer paid the fee.
    if (err !== null && preBalances[0] === postBalances[0]) return { landed: false, err, logs: meta.logs() };

    const record: LandedTransaction = {
      signature,
      slot: this.height,
      transaction,
      err,
      preBalances,
      postBalances,
      logs: meta.logs(),
      computeUnits: meta.computeUnitsConsumed(),
    };
    this.history.set(signature, record);
    if (this.history.size > HISTORY_LIMIT) this.history.delete(this.history.keys().next().value!);
    this.advanceBlocks(1);
    await this.persist(
      keys.filter((_, index) => message.isAccountWritable(index)),
      { signature, failed: err !== null, lamportsSpent: preBalances[0]! - postBalances[0]! },
    );
    return { landed: true, record };
  }

  private isExpired(transaction: VersionedTransaction): boolean {
    return !this.blockhashes.has(transaction.message.recentBlockhash);
  }

  transaction(signature: string): LandedTransaction | undefined {
    return this.history.get(signature);
  }

  /**
   * Whether a transaction landed (and failed or not), also from before a restart when the chain
   * is persisted. Undefined means it never ran here; after a restart, old blockhashes are all
   * expired, so it never will.
   */
  async landed(signature: string): Promise<SavedTransaction | undefined> {
    const record = this.history.get(signature);
    if (record) {
      const lamportsSpent = record.preBalances[0]! - record.postBalances[0]!;
      return { signature, failed: record.err !== null, lamportsSpent };
    }
    return this.store?.transaction(signature);
  }

  /** Whether the transaction is sure to land and succeed, from the accounts as they are now. */
  surelySucceeds(transaction: VersionedTransaction): boolean {
    return surelySucceeds(transaction, this.view);
  }

  lamports(key: PublicKey): bigint {
    return this.svm.getBalance(key.toBytes()) ?? 0n;
  }

  account(key: PublicKey): ChainAccount | null {
    const bytes = key.toBytes();
    const account = readAccount(this.svm, bytes);
    if (!account) return null;
    const { lamports, owner, executable, data } = account;
    return { address: addressOf(bytes), lamports, owner: addressOf(owner), executable, data };
  }

  /** Embedded only: SOL from LiteSVM's faucet. */
  async airdrop(to: PublicKey, lamports: bigint): Promise<void> {
    const result = this.svm.airdrop(to.toBytes(), lamports);
    if (!result || result instanceof FailedTransactionMetadata) throw new Error(`airdrop failed: ${result}`);
    await this.persist([to]);
  }

  /** Embedded only: mints USDC to the owner's associated token account (created if missing). */
  async mintUsdc(owner: PublicKey, amount: bigint): Promise<void> {
    const tokenAccount = associatedTokenAddress(owner, this.usdcMint);
    const { publicKey: authority } = this.authority;
    await this.setUp(
      [
        createAssociatedTokenAccountIdempotentInstruction(authority, tokenAccount, owner, this.usdcMint),
        createMintToCheckedInstruction(this.usdcMint, tokenAccount, authority, amount, USDC_DECIMALS),
      ],
      [this.authority],
    );
  }

  private async ensureMint(): Promise<void> {
    const existing = this.account(this.usdcMint);
    if (existing) {
      const { mintAuthorityOption, mintAuthority } = MintLayout.decode(existing.data);
      if (mintAuthorityOption !== 1 || !mintAuthority.equals(this.authority.publicKey)) {
        throw new Error('the restored USDC mint has another mint authority than the one given');
      }
      return;
    }
    const rent = this.svm.minimumBalanceForRentExemption(BigInt(MINT_SIZE));
    await this.setUp(
      [
        SystemProgram.createAccount({
          fromPubkey: this.authority.publicKey,
          newAccountPubkey: this.usdcMint,
          lamports: Number(rent),
          space: MINT_SIZE,
          programId: TOKEN_PROGRAM_ID,
        }),
        createInitializeMint2Instruction(this.usdcMint, USDC_DECIMALS, this.authority.publicKey, null),
      ],
      [this.authority, this.mint],
    );
  }

  /** A transaction of the chain's own (mint, funding), paid by the mint authority. */
  private async setUp(instructions: TransactionInstruction[], signers: Keypair[]): Promise<void> {
    if (this.lamports(this.authority.publicKey) < AUTHORITY_FLOOR) {
      await this.airdrop(this.authority.publicKey, 10n * AUTHORITY_FLOOR);
    }
    const signed = signTransaction(instructions, signers, this.svm.latestBlockhash());
    const outcome = await this.submit(signed, { preflight: true });
    const err = outcome.landed ? outcome.record.err : outcome.err;
    if (err !== null) throw new Error(`embedded chain set-up transaction failed: ${JSON.stringify(err)}`);
  }

  private restore({ address, lamports, owner, executable, data }: ChainAccount): void {
    const key = toPublicKey(address, 'saved account address').toBytes();
    writeAccount(this.svm, key, {
      lamports,
      owner: toPublicKey(owner, 'saved account owner').toBytes(),
      executable,
      data,
    });
  }

  /**
   * Saves the accounts' state as of now (read synchronously, right after the transaction), in
   * order: each save waits for the previous one, so an older state never overwrites a newer one.
   */
  private persist(keys: PublicKey[], transaction?: SavedTransaction): Promise<void> {
    const store = this.store;
    if (!store) return Promise.resolve();
    const accounts = keys.map((key) => this.account(key) ?? closedAccount(key));
    const saved = this.saving.then(() => store.save(accounts, transaction));
    this.saving = saved.catch(() => undefined);
    return saved;
  }
}

/** The chain as the pre-check reads it; its constants (rent-exempt minimums, the mint's decimals) read once. */
function chainView(svm: LiteSvm, usdcMint: PublicKey): ChainView {
  const rents = new Map<number, bigint>();
  let decimals: number | undefined;
  return {
    account: (key) => readAccount(svm, key.toBytes()),
    rent(size) {
      let rent = rents.get(size);
      if (rent === undefined) {
        rent = svm.minimumBalanceForRentExemption(BigInt(size));
        rents.set(size, rent);
      }
      return rent;
    },
    usdcMint,
    get usdcDecimals() {
      // A mint's decimals never change; it exists by the first payment (`create` made sure of it).
      decimals ??= MintLayout.decode(readAccount(svm, usdcMint.toBytes())!.data).decimals;
      return decimals;
    },
  };
}

/** An account a transaction emptied: saved as such so a restart does not bring it back. */
const closedAccount = (key: PublicKey): ChainAccount => ({
  address: key.toBase58(),
  lamports: 0n,
  owner: SystemProgram.programId.toBase58(),
  executable: false,
  data: new Uint8Array(),
});
