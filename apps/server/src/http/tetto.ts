import { addressKey, isRateLimiterRes } from '@tdk/api';
import type { SolanaPort, TettoStore } from '@tdk/core';
import { createTettoProtocol, type LocalMarketplace, tettoHttpHandler } from '@tdk/marketplace';
import type { Request, RequestHandler } from 'express';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * The local marketplace behind the Tetto wire protocol (`/api/agents…`, `/api/receipts/{id}`), so a
 * Tetto client works against TDK. The caller pays from its own wallet, so these calls are not TDK
 * usage (no key, no ledger entry); TDK submits the payment and calls the agent as the local
 * marketplace does. Intents and receipts are kept in `store` (the database): build-transaction and
 * call may reach different processes, and receipts outlive them.
 */
export function tettoEndpoints(
  marketplace: LocalMarketplace,
  chain: SolanaPort,
  store: TettoStore,
  maxBodyBytes: number,
  perIp: RateLimiterAbstract,
): RequestHandler {
  const protocol = createTettoProtocol({
    store,
    listAgents: () => marketplace.listAgents(),
    getAgent: (id) => marketplace.getAgent(id),
    chain,
    protocolWallet: marketplace.protocolWallet,
    invokeAgent: marketplace.invokeAgent,
  });
  const handle = tettoHttpHandler(protocol, {
    maxBodyBytes,
    onError: (err, req) => (req as Request).log.error({ err }, 'tetto endpoint failed'),
  });
  // Public endpoints, so limited per IP: a flood of build-transaction requests must not fill the
  // intents table faster than expired intents are cleared.
  return (req, res, next) => {
    if (!req.path.startsWith('/api/agents') && !req.path.startsWith('/api/receipts/')) return next();
    perIp.consume(addressKey(req.ip)).then(
      () => handle(req, res, next),
      (rejection: unknown) => {
        if (!isRateLimiterRes(rejection)) return next(rejection);
        const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        res.setHeader('Retry-After', String(retryAfter));
        res.status(429).json({ ok: false, error: `Too many requests; retry in ${retryAfter} s.` });
      },
    );
  };
}
