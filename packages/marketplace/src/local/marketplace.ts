import {
  type AgentListing,
  formatUsd,
  type MarketplacePort,
  PaidCallError,
  type PaidCallResult,
  type PaymentProof,
  type SolanaPort,
  splitPrice,
} from '@tdk/core';
import type { AgentTable } from '@tdk/db';
import { type Database, toBigInt } from '@tdk/db';
import type { Kysely, Selectable } from 'kysely';
import { type AgentInvoker, createAgentInvoker, tettoContext } from '../agent-endpoint';
import { uuidPattern } from '../tetto/wire';

export interface LocalMarketplaceOptions {
  db: Kysely<Database>;
  chain: SolanaPort;
  /** Receives the protocol fee of every payment. */
  protocolWallet: string;
  /** How long a looked-up listing is reused before it is read again (every paid call looks one up). */
  listingTtlMs?: number;
}

export type LocalMarketplace = MarketplacePort & {
  readonly kind: 'local';
  readonly protocolWallet: string;
  /** How this marketplace calls its agents; its Tetto endpoints call them the same way. */
  readonly invokeAgent: AgentInvoker;
};

/**
 * The local marketplace: agents registered in TDK's database. TDK builds the payment itself (agent
 * owner gets price − fee, protocol wallet the fee, one SPL transaction from the payer), then POSTs
 * `{ input, tetto_context }` to the agent and checks its output against the agent's schema.
 */
export function createLocalMarketplace(options: LocalMarketplaceOptions): LocalMarketplace {
  const { db, chain } = options;
  const invokeAgent = createAgentInvoker();
  const toListing = (row: Selectable<AgentTable>) => agentListing(row, chain);
  const listingTtlMs = options.listingTtlMs ?? 1_000;
  const recent = new Map<string, { listing: AgentListing; until: number }>();

  return {
    kind: 'local',
    protocolWallet: options.protocolWallet,
    invokeAgent,
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
      // Postgres text cannot hold NUL, so no agent is named with one (and asking would be an error).
      if (idOrName.includes('\0')) return undefined;
      const hit = recent.get(idOrName);
      if (hit && hit.until > Date.now()) return hit.listing;
      const row = await db
        .selectFrom('agent')
        .selectAll()
        .where(uuidPattern.test(idOrName) ? 'id' : 'name', '=', idOrName)
        .executeTakeFirst();
      if (!row) return undefined;
      const listing = toListing(row);
      if (recent.size >= 1_000) recent.clear();
      recent.set(idOrName, { listing, until: Date.now() + listingTtlMs });
      return listing;
    },
    async callAgent({ agent, input, payer, intentId, beforePay }): Promise<PaidCallResult> {
      const { agentReceives, protocolFee } = splitPrice(agent.price_base, agent.fee_bps);
      const planned = { agentReceived: agentReceives, protocolFee, protocolWallet: options.protocolWallet };
      // Throws ChainError when the payment does not happen: then nothing was paid.
      const moved = await chain.transferUsdc({
        from: payer,
        transfers: [
          { to: agent.owner_wallet, amount: agentReceives },
          { to: options.protocolWallet, amount: protocolFee },
        ].filter((t) => t.amount > 0n),
        memo: intentId,
        ...(beforePay ? { beforeSend: (signature: string) => beforePay({ signature, ...planned }) } : {}),
      });
      const payment: PaymentProof = {
        signature: moved.signature,
        lamportsSpent: moved.lamportsSpent,
        agentReceived: agentReceives,
        protocolFee,
        protocolWallet: options.protocolWallet,
      };
      const answer = await invokeAgent(agent, {
        input,
        tetto_context: tettoContext(payer.publicKey, intentId),
      });
      if (!answer.ok) {
        throw new PaidCallError(answer.code, answer.message, payment, intentId, { cause: answer.cause });
      }
      return { output: answer.output, payment, receiptId: intentId };
    },
  };
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
