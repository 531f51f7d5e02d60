import type { ChainAccount, ChainSnapshotStore } from '@tdk/core';

/** A snapshot store in memory: survives a new adapter in the same process (tests, dev tools). */
export function createMemorySnapshotStore(): ChainSnapshotStore {
  const accounts = new Map<string, ChainAccount>();
  const copy = (account: ChainAccount): ChainAccount => ({ ...account, data: account.data.slice() });
  return {
    load: async () => [...accounts.values()].map(copy),
    save: async (written) => {
      for (const account of written) accounts.set(account.address, copy(account));
    },
  };
}
