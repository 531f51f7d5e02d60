import { Account, FailedTransactionMetadata, LiteSvm } from 'litesvm/dist/internal.js';
import type { SignedTransaction } from '../transactions';

/**
 * LiteSVM's native class, spoken to in bytes. litesvm's `LiteSVM` wraps it for @solana/kit: base58
 * addresses and kit transactions, converted in JavaScript (BigInt base58) on every call, which took
 * most of a payment's time. The package has no `exports` map, so its native module is importable.
 */
export { FailedTransactionMetadata, LiteSvm };

/** An account as LiteSVM holds it: owner in bytes. */
export interface AccountState {
  lamports: bigint;
  owner: Uint8Array;
  executable: boolean;
  data: Uint8Array;
}

export function readAccount(svm: LiteSvm, key: Uint8Array): AccountState | null {
  const account = svm.getAccount(key);
  if (!account) return null;
  return {
    lamports: account.lamports(),
    owner: account.owner(),
    executable: account.executable(),
    data: account.data(),
  };
}

export function writeAccount(svm: LiteSvm, key: Uint8Array, state: AccountState): void {
  const { lamports, data, owner, executable } = state;
  // Rent epoch 0, as litesvm's wrapper sets it.
  svm.setAccount(key, new Account(lamports, data, owner, executable, 0n));
}

type Transaction = Pick<SignedTransaction, 'transaction' | 'bytes'>;

export function sendTransaction(svm: LiteSvm, { transaction, bytes }: Transaction) {
  return transaction.version === 'legacy'
    ? svm.sendLegacyTransaction(bytes)
    : svm.sendVersionedTransaction(bytes);
}

export function simulateTransaction(svm: LiteSvm, { transaction, bytes }: Transaction) {
  return transaction.version === 'legacy'
    ? svm.simulateLegacyTransaction(bytes)
    : svm.simulateVersionedTransaction(bytes);
}
