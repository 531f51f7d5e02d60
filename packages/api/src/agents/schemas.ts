import { type AgentListing, developerCost, type Tier, type TierName } from '@tdk/core';
import { z } from 'zod';

export const ZAgent = z
  .object({
    id: z.string().describe('UUID'),
    name: z.string(),
    description: z.string(),
    endpoint_url: z.string(),
    price_display: z.string(),
    price_base: z
      .number()
      .int()
      .describe("Price in the token's base units (USDC: micro-dollars), an integer like every amount"),
    token: z.enum(['USDC', 'SOL']),
    token_mint: z.string(),
    token_decimals: z.number().int(),
    input_schema: z.record(z.string(), z.unknown()),
    output_schema: z.record(z.string(), z.unknown()),
    owner_wallet: z.string(),
    fee_bps: z.number().int(),
    status: z.enum(['active', 'disabled']),
    agent_type: z.enum(['simple', 'complex', 'coordinator']),
    example_inputs: z.array(z.unknown()),
    developer_price_base: z
      .object({ free: z.number().int(), paid: z.number().int(), pro: z.number().int() })
      .describe(
        "What one call costs you on each tier, in the token's base units: the price with the tier's markup, as billed",
      ),
  })
  .meta({ id: 'Agent' });

export const agentDto = (agent: AgentListing, tiers: Record<TierName, Tier>): z.infer<typeof ZAgent> => ({
  id: agent.id,
  name: agent.name,
  description: agent.description,
  endpoint_url: agent.endpoint_url,
  price_display: agent.price_display,
  // A JSON integer like every other amount: prices are far below 2^53, so Number is exact.
  price_base: Number(agent.price_base),
  token: agent.token,
  token_mint: agent.token_mint,
  token_decimals: agent.token_decimals,
  input_schema: agent.input_schema,
  output_schema: agent.output_schema,
  owner_wallet: agent.owner_wallet,
  fee_bps: agent.fee_bps,
  status: agent.status,
  agent_type: agent.agent_type,
  example_inputs: agent.example_inputs,
  developer_price_base: {
    free: Number(developerCost(agent.price_base, tiers.free.markupBps).total),
    paid: Number(developerCost(agent.price_base, tiers.paid.markupBps).total),
    pro: Number(developerCost(agent.price_base, tiers.pro.markupBps).total),
  },
});
