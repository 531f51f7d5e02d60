import type { SolanaPort } from '@tdk/core';
import { createTettoProtocol, type LocalMarketplace, tettoHttpHandler } from '@tdk/marketplace';
import type { Request, RequestHandler } from 'express';

/**
 * The local marketplace behind the Tetto wire protocol (`/api/agents…`, `/api/receipts/{id}`), so a
 * Tetto client works against TDK. The caller pays from its own wallet, so these calls are not TDK
 * usage (no key, no ledger entry); TDK submits the payment and calls the agent as the local
 * marketplace does. Intents and receipts live in this process's memory, bounded: build-transaction
 * and call must reach the same process, and receipts do not outlive it.
 */
export function tettoEndpoints(
  marketplace: LocalMarketplace,
  chain: SolanaPort,
  maxBodyBytes: number,
): RequestHandler {
  const protocol = createTettoProtocol({
    listAgents: () => marketplace.listAgents(),
    getAgent: (id) => marketplace.getAgent(id),
    chain,
    protocolWallet: marketplace.protocolWallet,
    invokeAgent: marketplace.invokeAgent,
  });
  return tettoHttpHandler(protocol, {
    maxBodyBytes,
    onError: (err, req) => (req as Request).log.error({ err }, 'tetto endpoint failed'),
  });
}
