import { ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { type PublicKey, SystemProgram, type VersionedTransaction } from '@solana/web3.js';
import { associatedTokenAddress, memoInstruction } from '../transactions';

/**
 * Whether a USDC payment as TDK builds it (per recipient: create its token account if missing, then
 * TransferChecked from the payer; memos) is sure to land and succeed, read from the chain's accounts
 * as they are now. LiteSVM charges the fee even for a transaction that fails while running, so the
 * runtime must not send one that could fail; this lets it skip the simulation it would otherwise
 * run first (a whole second execution) when the answer is plainly yes.
 *
 * Only ever a sufficient condition: `false` means "simulate as before" (which then gives the chain's
 * own error), never "refuse". Anything it does not fully understand is `false`: another program or
 * instruction, a second signer, a compute budget, an account in an unexpected state.
 */
export interface ChainView {
  account(key: PublicKey): AccountView | null;
  /** Rent-exempt minimum for an account of `size` bytes. */
  rent(size: number): bigint;
  usdcMint: PublicKey;
  usdcDecimals: number;
}

interface AccountView {
  lamports: bigint;
  owner: Uint8Array;
  data: Uint8Array;
}

/** Solana's fee: 5,000 lamports per signature (LiteSVM's default; no priority fee without a compute budget). */
const LAMPORTS_PER_SIGNATURE = 5_000n;
/** SPL token account: 165 bytes; mint, owner, amount (u64 LE) at 64, state at 108 (1 = initialized, 2 = frozen). */
const TOKEN_ACCOUNT_SIZE = 165;
const TRANSFER_CHECKED = 12;
const CREATE_IDEMPOTENT = 1;
const U64_MAX = 2n ** 64n - 1n;
/** Four recipients with memos; TDK's payments have one or two. */
const MAX_SURE_INSTRUCTIONS = 10;
const MEMO_PROGRAM_ID = memoInstruction('').programId;
const SYSTEM = SystemProgram.programId.toBuffer();
const TOKEN = TOKEN_PROGRAM_ID.toBuffer();
const utf8 = new TextDecoder('utf-8', { fatal: true });

interface TokenAccount {
  mint: Buffer;
  owner: Buffer;
  amount: bigint;
}

export function surelySucceeds(transaction: VersionedTransaction, chain: ChainView): boolean {
  const { message } = transaction;
  if (message.version !== 'legacy' || message.header.numRequiredSignatures !== 1) return false;
  // Each create-if-missing runs inner instructions: many recipients can pass the runtime's limit on
  // the instruction trace, which fails only once running (and charges the fee). Simulate those.
  if (message.compiledInstructions.length > MAX_SURE_INSTRUCTIONS) return false;
  const keys = message.staticAccountKeys;
  const [payerKey] = keys;
  const payer = payerKey ? chain.account(payerKey) : null;
  // A fee payer must be a plain system account.
  if (!payerKey || !payer || !SYSTEM.equals(payer.owner) || payer.data.length !== 0) return false;
  const mint = chain.usdcMint;
  const mintBytes = mint.toBuffer();
  const payerBytes = payerKey.toBuffer();
  const writable = (index: number) => message.isAccountWritable(index);

  let lamportsNeeded = LAMPORTS_PER_SIGNATURE;
  // Token accounts as the transaction leaves them so far, by address (null: known not to exist).
  const tokens = new Map<string, TokenAccount | null | undefined>();
  const tokenAccount = (key: PublicKey): TokenAccount | null | undefined => {
    const address = hex(key);
    if (!tokens.has(address)) tokens.set(address, readTokenAccount(chain.account(key)));
    return tokens.get(address);
  };

  for (const { programIdIndex, accountKeyIndexes: indexes, data } of message.compiledInstructions) {
    const program = keys[programIdIndex];
    // Undefined for an index past the keys: such a transaction is for the chain to refuse.
    const accounts = indexes.map((index) => keys[index]);

    if (program?.equals(MEMO_PROGRAM_ID)) {
      // The memo program refuses text that is not UTF-8, and checks any accounts given as signers.
      if (indexes.length !== 0 || !isUtf8(data)) return false;
    } else if (program?.equals(ASSOCIATED_TOKEN_PROGRAM_ID)) {
      // CreateIdempotent: [funder, account, owner, mint, system program, token program].
      if (data.length !== 1 || data[0] !== CREATE_IDEMPOTENT || indexes.length !== 6) return false;
      const [, address, owner, accountMint, system, token] = accounts;
      if (indexes[0] !== 0 || !writable(indexes[1]!) || !address || !owner || !same(accountMint, mint))
        return false;
      if (!same(system, SystemProgram.programId) || !same(token, TOKEN_PROGRAM_ID)) return false;
      if (!associatedTokenAddress(owner, mint).equals(address)) return false;
      const existing = tokenAccount(address);
      if (existing === undefined) return false;
      if (existing === null) {
        lamportsNeeded += chain.rent(TOKEN_ACCOUNT_SIZE);
        tokens.set(hex(address), { mint: mintBytes, owner: owner.toBuffer(), amount: 0n });
      } else if (!existing.mint.equals(mintBytes) || !existing.owner.equals(owner.toBuffer())) {
        return false;
      }
    } else if (program?.equals(TOKEN_PROGRAM_ID)) {
      // TransferChecked by the payer: [source, mint, destination, owner], amount and decimals.
      if (data.length !== 10 || data[0] !== TRANSFER_CHECKED || indexes.length !== 4) return false;
      const [sourceKey, transferMint, destinationKey] = accounts;
      if (indexes[3] !== 0 || !same(transferMint, mint) || data[9] !== chain.usdcDecimals) return false;
      if (!sourceKey || !destinationKey || sourceKey.equals(destinationKey)) return false;
      if (!writable(indexes[0]!) || !writable(indexes[2]!)) return false;
      const amount = Buffer.from(data.buffer, data.byteOffset, data.byteLength).readBigUInt64LE(1);
      const source = tokenAccount(sourceKey);
      const destination = tokenAccount(destinationKey);
      if (!source || !destination || !source.mint.equals(mintBytes) || !destination.mint.equals(mintBytes))
        return false;
      if (!source.owner.equals(payerBytes) || source.amount < amount) return false;
      if (destination.amount + amount > U64_MAX) return false;
      source.amount -= amount;
      destination.amount += amount;
    } else {
      return false;
    }
  }
  // The payer pays the fee and the rent of what it creates, and must stay rent-exempt.
  return payer.lamports - lamportsNeeded >= chain.rent(0);
}

/** Whether `key` (undefined past the message's keys) is `expected`. */
const same = (key: PublicKey | undefined, expected: PublicKey) => key?.equals(expected) === true;

const hex = (key: PublicKey) => key.toBuffer().toString('hex');

/** An initialized, unfrozen, non-native SPL token account; null if none; undefined if anything else. */
function readTokenAccount(account: AccountView | null): TokenAccount | null | undefined {
  if (!account) return null;
  const { owner, data } = account;
  if (!TOKEN.equals(owner) || data.length !== TOKEN_ACCOUNT_SIZE) return undefined;
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // state 1 = initialized (2 is frozen); isNative option (at 109) unset.
  if (bytes[108] !== 1 || bytes.readUInt32LE(109) !== 0) return undefined;
  return { mint: bytes.subarray(0, 32), owner: bytes.subarray(32, 64), amount: bytes.readBigUInt64LE(64) };
}

function isUtf8(data: Uint8Array): boolean {
  try {
    utf8.decode(data);
    return true;
  } catch {
    return false;
  }
}
