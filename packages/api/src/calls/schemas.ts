import type { CallStatus } from '@tdk/db';
import { z } from 'zod';

/** A call's statuses, in the order it moves through them (`calls/lifecycle.ts`). */
export const callStatuses = [
  'queued',
  'paying',
  'running',
  'succeeded',
  'failed',
] as const satisfies readonly CallStatus[];

export const ZCost = z
  .object({
    agent: z.number().int().describe("The agent's price, in base units (USDC micro-dollars)"),
    markup: z.number().int().describe("TDK's markup, base units"),
    total: z.number().int().describe('What you are billed, base units'),
    currency: z.literal('USDC'),
    decimals: z.literal(6),
    display: z.string().describe('The total for people, e.g. `$0.0015`'),
  })
  .meta({ id: 'Cost' });

export const ZCallAnswer = z
  .object({
    id: z.string().describe('`call_…`; also the receipt and the payment memo'),
    agent_id: z.string(),
    status: z.literal('succeeded'),
    output: z.unknown().describe("The agent's output, checked against its output schema"),
    cost: ZCost,
    payment: z.object({
      tx_signature: z.string().describe('The Solana transaction that paid the agent'),
      network: z.string(),
    }),
    receipt_id: z.string(),
    latency_ms: z.number().int(),
  })
  .meta({ id: 'CallResult' });

export type CallAnswer = z.infer<typeof ZCallAnswer>;

export const ZCallAccepted = z
  .object({
    id: z.string().describe('`call_…`'),
    status: z.literal('queued'),
    agent_id: z.string(),
    links: z.object({
      self: z.string().describe('`GET` it for the status and, once finished, the result'),
      events: z.string().describe('Server-Sent Events: each status change as it happens'),
    }),
  })
  .meta({ id: 'CallAccepted' });

export type CallAccepted = z.infer<typeof ZCallAccepted>;

/**
 * A body field the route does not know is refused (400), as Stripe refuses an unknown parameter: a
 * misspelled setting (`monthly_spend_limit`) must not pass silently. Every request body is strict.
 */
export const ZCallRequest = z.strictObject({
  agent_id: z.string().min(1).max(200).describe('Agent id (UUID) or unique name, e.g. `memory`'),
  input: z
    .unknown()
    .nonoptional('Required: the input for the agent, matching its input schema')
    .describe("The agent's input; must match its input schema"),
  async: z
    .boolean()
    .default(false)
    .describe('Answer 202 with the queued call at once and run it in the background'),
});

export const ZCallError = z
  .object({
    code: z.string().describe('e.g. `agent_failed`, `agent_timeout`, `insufficient_funds`'),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'CallError' });
