import {
  type AgentListing,
  agentTimeoutMs,
  formatUsd,
  type MarketplacePort,
  PaidCallError,
  type PaidCallResult,
  type PaymentProof,
  type SolanaPort,
  splitPrice,
  type TettoContext,
} from '@tdk/core';
import type { AgentTable } from '@tdk/db';
import { type Database, toBigInt } from '@tdk/db';
import type { Kysely, Selectable } from 'kysely';
import { createSchemaValidator } from '../schemas';

const protocolVersion = '1.0';
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface LocalMarketplaceOptions {
  db: Kysely<Database>;
  chain: SolanaPort;
  /** Receives the protocol fee of every payment. */
  protocolWallet: string;
  fetch?: typeof fetch;
}

export type LocalMarketplace = MarketplacePort & { readonly protocolWallet: string };

/**
 * The local marketplace: agents registered in TDK's database. TDK builds the payment itself (agent
 * owner gets price − fee, protocol wallet the fee, one SPL transaction from the payer), then POSTs
 * `{ input, tetto_context }` to the agent and checks its output against the agent's schema.
 */
export function createLocalMarketplace(options: LocalMarketplaceOptions): LocalMarketplace {
  const { db, chain } = options;
  const fetchFn = options.fetch ?? fetch;
  const schemas = createSchemaValidator();
  const toListing = (row: Selectable<AgentTable>) => agentListing(row, chain);

  return {
    kind: 'local',
    protocolWallet: options.protocolWallet,
    async listAgents() {
      const rows = await db
        .selectFrom('agent')
        .selectAll()
        .where('status', '=', 'active')
        .orderBy('name')
        .execute();
      return rows.map(toListing);
    },
    async getAgent(idOrName) {
      const row = await db
        .selectFrom('agent')
        .selectAll()
        .where(uuidPattern.test(idOrName) ? 'id' : 'name', '=', idOrName)
        .executeTakeFirst();
      return row ? toListing(row) : undefined;
    },
    async callAgent({ agent, input, payer, intentId }): Promise<PaidCallResult> {
      const { agentReceives, protocolFee } = splitPrice(agent.price_base, agent.fee_bps);
      // Throws ChainError when the payment does not happen: then nothing was paid.
      const moved = await chain.transferUsdc({
        from: payer,
        transfers: [
          { to: agent.owner_wallet, amount: agentReceives },
          { to: options.protocolWallet, amount: protocolFee },
        ].filter((t) => t.amount > 0n),
        memo: intentId,
      });
      const payment: PaymentProof = {
        signature: moved.signature,
        lamportsSpent: moved.lamportsSpent,
        agentReceived: agentReceives,
        protocolFee,
        protocolWallet: options.protocolWallet,
      };
      const context: TettoContext = {
        caller_wallet: payer.publicKey,
        caller_agent_id: null,
        intent_id: intentId,
        timestamp: Date.now(),
        version: protocolVersion,
      };
      const output = await invokeAgent(fetchFn, agent, { input, tetto_context: context }, payment, intentId);
      const issues = schemas.validate(agent.output_schema, output);
      if (issues.length > 0) {
        throw new PaidCallError(
          'agent_failed',
          `The agent's output does not match its schema: ${issues[0]?.path} ${issues[0]?.message}`,
          payment,
          intentId,
        );
      }
      return { output, payment, receiptId: intentId };
    },
  };
}

async function invokeAgent(
  fetchFn: typeof fetch,
  agent: AgentListing,
  body: { input: unknown; tetto_context: TettoContext },
  payment: PaymentProof,
  intentId: string,
): Promise<unknown> {
  const timeoutMs = agent.timeout_ms ?? agentTimeoutMs[agent.agent_type];
  let res: Response;
  try {
    res = await fetchFn(agent.endpoint_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    throw timedOut
      ? new PaidCallError(
          'agent_timeout',
          `The agent did not answer within ${timeoutMs} ms.`,
          payment,
          intentId,
          { cause: error },
        )
      : new PaidCallError('agent_failed', 'The agent could not be reached.', payment, intentId, {
          cause: error,
        });
  }
  const text = await res.text().catch(() => '');
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    throw new PaidCallError(
      'agent_failed',
      `The agent answered ${res.status} with a body that is not JSON.`,
      payment,
      intentId,
    );
  }
  if (!res.ok) {
    const reason =
      typeof (parsed as { error?: unknown })?.error === 'string'
        ? (parsed as { error: string }).error
        : `HTTP ${res.status}`;
    throw new PaidCallError('agent_failed', `The agent failed: ${reason.slice(0, 500)}`, payment, intentId);
  }
  return parsed;
}

/** A registry row as a Tetto listing. */
export function agentListing(
  row: Selectable<AgentTable>,
  chain: Pick<SolanaPort, 'usdcMint' | 'usdcDecimals'>,
): AgentListing {
  const price = toBigInt(row.price_base);
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    endpoint_url: row.endpoint_url,
    price_display: formatUsd(price),
    price_base: price,
    token: row.token,
    token_mint: chain.usdcMint,
    token_decimals: chain.usdcDecimals,
    input_schema: row.input_schema,
    output_schema: row.output_schema,
    owner_wallet: row.owner_wallet,
    fee_bps: row.fee_bps,
    status: row.status,
    agent_type: row.agent_type,
    example_inputs: row.example_inputs,
    timeout_ms: row.timeout_ms,
  };
}
