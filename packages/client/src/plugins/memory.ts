import type { ShortcutOptions, TDKPlugin } from '../client.js';
import { shortcuts } from './shortcuts.js';

/** `set`: the value is stored. */
export interface MemoryStored {
  ok: true;
  key: string;
  /** ISO 8601. */
  stored_at: string;
}

/** `get`: the value under the key, or `found: false` and `value: null`. */
export interface MemoryValue {
  found: boolean;
  key: string;
  value: string | null;
}

/** `list`: the keys, sorted; `truncated` when more than 1,000 match. */
export interface MemoryKeys {
  keys: string[];
  truncated: boolean;
}

/** `delete`: whether there was a value to delete. */
export interface MemoryDeleted {
  deleted: boolean;
  key: string;
}

/**
 * The `memory` agent: string values by key (at most 256 characters; values up to 64 KiB), one key
 * space per API key's wallet. Each method is one paid call.
 */
export interface MemoryShortcuts {
  /** Stores `value` under `key`, replacing what was there. */
  set(key: string, value: string, options?: ShortcutOptions): Promise<MemoryStored>;
  /** The value under `key`. */
  get(key: string, options?: ShortcutOptions): Promise<MemoryValue>;
  /** The keys, or those starting with `prefix`. */
  list(prefix?: string, options?: ShortcutOptions): Promise<MemoryKeys>;
  /** Deletes the value under `key`. */
  delete(key: string, options?: ShortcutOptions): Promise<MemoryDeleted>;
}

declare module '../client.js' {
  interface TDK {
    /** Shortcuts for the `memory` agent: `set`, `get`, `list`, `delete`. */
    readonly memory: MemoryShortcuts;
  }
}

/** The `tdk.memory` plugin, installed by default. */
export const memory: TDKPlugin<'memory'> = {
  name: 'memory',
  install(tdk) {
    const run = shortcuts(tdk, 'memory');
    return {
      set: (key, value, options) => run({ action: 'store', key, value }, options),
      get: (key, options) => run({ action: 'retrieve', key }, options),
      list: (prefix, options) => run({ action: 'list', prefix }, options),
      delete: (key, options) => run({ action: 'delete', key }, options),
    };
  },
};
