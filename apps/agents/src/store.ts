/**
 * Where an agent keeps its callers' data: one partition per caller wallet, so no caller can reach
 * another's keys. Asynchronous so a database or Redis store can replace the in-process one.
 */
export interface PartitionedStore<T> {
  get(partition: string, key: string): Promise<T | undefined>;
  /**
   * Inserts or replaces. Refuses (returns false) a new key when the partition already holds
   * `maxKeys`: the check and the write are one step, so concurrent calls cannot overshoot.
   */
  set(partition: string, key: string, value: T, maxKeys: number): Promise<boolean>;
  /** True when the key existed. */
  delete(partition: string, key: string): Promise<boolean>;
  entries(partition: string): Promise<Array<[key: string, value: T]>>;
}

/** The in-process store: data lives as long as the process. */
export function createMapStore<T>(): PartitionedStore<T> {
  const partitions = new Map<string, Map<string, T>>();
  return {
    get: async (partition, key) => partitions.get(partition)?.get(key),
    set: async (partition, key, value, maxKeys) => {
      const entries = partitions.get(partition) ?? new Map<string, T>();
      if (!entries.has(key) && entries.size >= maxKeys) return false;
      partitions.set(partition, entries.set(key, value));
      return true;
    },
    delete: async (partition, key) => {
      const entries = partitions.get(partition);
      const deleted = entries?.delete(key) ?? false;
      // Drop emptied partitions so callers who leave nothing behind cost nothing.
      if (entries?.size === 0) partitions.delete(partition);
      return deleted;
    },
    entries: async (partition) => [...(partitions.get(partition) ?? [])],
  };
}
