import type { ChainAccount, ChainSnapshotStore, SavedTransaction } from '@tdk/core';

/** A snapshot store in memory: survives a new adapter in the same process (tests, dev tools). */
export function createMemorySnapshotStore(): ChainSnapshotStore {
  const accounts = new Map<string, ChainAccount>();
  const transactions = new Map<string, SavedTransaction>();
  const copy = (account: ChainAccount): ChainAccount => ({ ...account, data: account.data.slice() });
  return {
    load: async () => [...accounts.values()].map(copy),
    save: async (written, transaction) => {
      for (const account of written) accounts.set(account.address, copy(account));
      if (transaction) transactions.set(transaction.signature, { ...transaction });
    },
    transaction: async (signature) => transactions.get(signature),
  };
}
