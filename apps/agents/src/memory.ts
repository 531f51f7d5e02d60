import { onlyFields, optionalText, readAction, requiredText, type TextLimit } from './input';
import { type AgentHandler, type AgentSpec, badInput } from './protocol';
import { actionBranch, closedObject, nullableString } from './schema';
import type { PartitionedStore } from './store';

/**
 * The memory agent, the WarmMemory contract: string values by key, one key space per caller wallet.
 *
 *   store    { key, value }  → { ok: true, key, stored_at }          (replaces an existing value)
 *   retrieve { key }         → { found, key, value: string | null }
 *   list     { prefix? }     → { keys, truncated }                   (sorted, at most 1,000)
 *   delete   { key }         → { deleted, key }
 */
const ACTIONS = ['store', 'retrieve', 'list', 'delete'] as const;
const KEY: TextLimit = { maxChars: 256 };
const VALUE: TextLimit = { maxChars: 64 * 1024, maxBytes: 64 * 1024, allowEmpty: true };
const PREFIX: TextLimit = { maxChars: 256, allowEmpty: true };
const MAX_KEYS = 10_000;
const MAX_LISTED = 1_000;

const key = { type: 'string', minLength: 1, maxLength: KEY.maxChars, description: 'At most 256 characters.' };
const value = {
  type: 'string',
  maxLength: VALUE.maxChars,
  description: 'At most 64 KiB as UTF-8.',
};
const prefix = {
  type: 'string',
  maxLength: PREFIX.maxChars,
  description: 'List only the keys that start with this.',
};

export const memoryAgent: AgentSpec = {
  name: 'memory',
  description:
    'Key-value memory (the WarmMemory contract): store, retrieve, list and delete string values by key. ' +
    "Each caller wallet has its own key space; no caller sees another's keys.",
  token: 'USDC',
  priceBase: 1000n,
  priceDisplay: '$0.001',
  agentType: 'simple',
  inputSchema: {
    title: 'WarmMemory input',
    type: 'object',
    properties: { action: { enum: [...ACTIONS] } },
    required: ['action'],
    oneOf: [
      actionBranch('store', { key, value }, ['key', 'value']),
      actionBranch('retrieve', { key }, ['key']),
      actionBranch('list', { prefix }, []),
      actionBranch('delete', { key }, ['key']),
    ],
  },
  outputSchema: {
    title: 'WarmMemory output',
    oneOf: [
      closedObject(
        { ok: { const: true }, key, stored_at: { type: 'string' } },
        'store; stored_at is ISO 8601',
      ),
      closedObject({ found: { type: 'boolean' }, key, value: nullableString }, 'retrieve'),
      closedObject(
        { keys: { type: 'array', items: key, maxItems: MAX_LISTED }, truncated: { type: 'boolean' } },
        'list; truncated when more than 1,000 keys match',
      ),
      closedObject({ deleted: { type: 'boolean' }, key }, 'delete'),
    ],
  },
  exampleInputs: [
    { action: 'store', key: 'user:42:name', value: 'Ada' },
    { action: 'retrieve', key: 'user:42:name' },
    { action: 'list', prefix: 'user:42:' },
    { action: 'delete', key: 'user:42:name' },
  ],
};

export function createMemoryHandler(store: PartitionedStore<string>): AgentHandler {
  return async (input, { callerWallet }) => {
    const action = readAction(input, ACTIONS);
    switch (action) {
      case 'store': {
        onlyFields(input, ['action', 'key', 'value']);
        const key = requiredText(input, 'key', KEY);
        const value = requiredText(input, 'value', VALUE);
        if (!(await store.set(callerWallet, key, value, MAX_KEYS))) {
          throw badInput(`this wallet already holds ${MAX_KEYS} keys: delete some before storing new ones`);
        }
        return { ok: true, key, stored_at: new Date().toISOString() };
      }
      case 'retrieve': {
        onlyFields(input, ['action', 'key']);
        const key = requiredText(input, 'key', KEY);
        const value = await store.get(callerWallet, key);
        return { found: value !== undefined, key, value: value ?? null };
      }
      case 'list': {
        onlyFields(input, ['action', 'prefix']);
        const prefix = optionalText(input, 'prefix', PREFIX) ?? '';
        const keys = (await store.entries(callerWallet))
          .map(([key]) => key)
          .filter((key) => key.startsWith(prefix))
          .sort();
        return { keys: keys.slice(0, MAX_LISTED), truncated: keys.length > MAX_LISTED };
      }
      case 'delete': {
        onlyFields(input, ['action', 'key']);
        const key = requiredText(input, 'key', KEY);
        return { deleted: await store.delete(callerWallet, key), key };
      }
    }
  };
}
