import type { AgentListing, AgentType } from '@tdk/core';

/**
 * Agent listings as the Tetto wire protocol carries them: JSON, so `price_base` is a number (or a
 * string of digits) of base units. Every answer is `{ ok: true, … }` or `{ ok: false, error }`.
 */
export type WireAgent = Omit<AgentListing, 'price_base'> & { price_base: number | string };

/** Agent ids, payment intent ids and receipt ids on the wire are UUIDs. */
export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const agentTypes: readonly unknown[] = ['simple', 'complex', 'coordinator'] satisfies AgentType[];

export const agentToWire = (agent: AgentListing): WireAgent => ({
  ...agent,
  price_base: Number(agent.price_base),
});

/**
 * A listing from the wire. What a payment depends on must be there; descriptive fields default,
 * `fee_bps` to the protocol's 1000 and `agent_type` to `simple`. Throws TypeError on a malformed one.
 */
export function agentFromWire(value: unknown): AgentListing {
  if (!isRecord(value)) throw new TypeError('agent listing: not an object');
  const field = <T>(key: string, valid: (v: unknown) => v is T, fallback?: T): T => {
    const v = value[key];
    if (v == null && fallback !== undefined) return fallback;
    if (!valid(v)) throw new TypeError(`agent listing: ${key} is missing or malformed`);
    return v;
  };
  return {
    id: field('id', isString),
    name: field('name', isString),
    description: field('description', isString, ''),
    endpoint_url: field('endpoint_url', isString, ''),
    price_display: field('price_display', isString, ''),
    price_base: BigInt(field('price_base', isBaseUnits)),
    token: field('token', (v): v is 'USDC' | 'SOL' => v === 'USDC' || v === 'SOL'),
    token_mint: field('token_mint', isString),
    token_decimals: field('token_decimals', Number.isInteger as (v: unknown) => v is number),
    input_schema: field('input_schema', isRecord, {}),
    output_schema: field('output_schema', isRecord, {}),
    owner_wallet: field('owner_wallet', isString),
    fee_bps: field('fee_bps', isFeeBps, 1000),
    status: value.status == null || value.status === 'active' ? 'active' : 'disabled',
    agent_type: agentTypes.includes(value.agent_type) ? (value.agent_type as AgentType) : 'simple',
    example_inputs: field('example_inputs', Array.isArray, []),
  };
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isString = (v: unknown): v is string => typeof v === 'string';

const isBaseUnits = (v: unknown): v is number | string =>
  (Number.isSafeInteger(v) && (v as number) >= 0) || (typeof v === 'string' && /^\d+$/.test(v));

const isFeeBps = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 10_000;
