import { createHash } from 'node:crypto';
import {
  type AgentListing,
  AppError,
  chainCostPostings,
  developerCost,
  formatUsd,
  isChainError,
  isPaidCallError,
  ledgerAccount,
  newId,
  type PaymentProof,
  transferPostings,
} from '@tdk/core';
import { isUniqueViolation } from '@tdk/db';
import { createSchemaValidator } from '@tdk/marketplace';
import type { VerifiedKey } from '../keys/verifier';
import { bookFailedTransactionFee, fundNewWallet, refillSoon, topUpIfLow } from '../money/funding';
import { recordMovement } from '../money/ledger';
import { signerOf } from '../money/wallets';
import type { Services } from '../services';
import { type Reservation, releaseCall, reserveCall, takeCallRate } from './limits';
import type { CallAnswer } from './schemas';

const inputSchemas = createSchemaValidator();

export interface CallRequest {
  agentId: string;
  input: unknown;
  idempotencyKey: string | undefined;
}

/**
 * The story of a paid call. Nothing moves money until the caller, the limits, the agent and the
 * input have all been checked; once the payment lands, the call is recorded whatever the agent does.
 */
export async function callAgent(
  services: Services,
  caller: VerifiedKey,
  request: CallRequest,
): Promise<{ answer: CallAnswer; headers: Record<string, string> }> {
  const started = performance.now();
  const tierName = caller.user.tier;
  const tier = services.tiers[tierName];

  // 1. Rate limit per key.
  const headers = await takeCallRate(services.callLimits, services.tiers, tierName, caller.key.id);

  // 2. The agent and its price.
  const agent = await services.marketplace.getAgent(request.agentId);
  if (!agent || agent.status !== 'active') {
    throw new AppError(
      'agent_not_found',
      `No agent ${JSON.stringify(request.agentId)}. List them at GET /api/tdk/agents.`,
    );
  }

  // 3. The input against the agent's schema — before any money moves.
  const issues = inputSchemas.validate(agent.input_schema, request.input);
  if (issues.length > 0) {
    throw new AppError('invalid_input', `The input does not match the ${agent.name} agent's input schema.`, {
      details: { issues },
    });
  }

  // 4. Idempotency: one call row per (key, Idempotency-Key); a replay answers from it.
  const requestHash = hashRequest(agent.id, request.input);
  const opened = await openCall(services, caller, agent, requestHash, request.idempotencyKey);
  if ('replay' in opened) return { answer: opened.replay, headers };
  const callId = opened.callId;

  // 5. Quota and spend cap, reserved atomically.
  const cost = developerCost(agent.price_base, tier.markupBps);
  let reservation: Reservation;
  try {
    reservation = await reserveCall(services.db, tier, caller.key.id, cost.total);
  } catch (error) {
    await closeUnpaid(services, callId);
    throw error;
  }

  // 6. Funds: a wallet never funded (its initial funding failed) is funded before its first payment.
  try {
    if (!caller.wallet.funded_at) await fundNewWallet(services, caller.wallet.id);
  } catch (error) {
    await releaseCall(services.db, reservation);
    await closeUnpaid(services, callId);
    throw error;
  }

  // 7. Pay and call. Top-ups stay off this path: the chain refuses an overdraft by itself, and only
  // then is the wallet refilled (once, by one request) and the payment tried again.
  const payAndCall = () =>
    services.marketplace.callAgent({
      agent,
      input: request.input,
      payer: signerOf(services, caller.wallet),
      intentId: callId,
    });
  let paid: { output: unknown; payment: PaymentProof; receiptId: string };
  try {
    paid = await payAndCall().catch(async (error: unknown) => {
      if (!isChainError(error) || error.code !== 'insufficient_funds') throw error;
      const topUp = await topUpIfLow(services, caller.wallet);
      if (topUp.usdc === 0n && topUp.lamports === 0n) throw error;
      return payAndCall();
    });
  } catch (error) {
    if (isPaidCallError(error)) {
      // Paid, but the agent failed: record the payment; the developer is not billed for it.
      await releaseCall(services.db, reservation, { keepCall: true });
      await recordPaidCall(
        services,
        caller,
        agent,
        callId,
        error.payment,
        { agent: error.payment.agentReceived + error.payment.protocolFee, markup: 0n, total: 0n },
        {
          status: error.code,
          latencyMs: elapsed(started),
          error: {
            code: error.code,
            message: error.message,
            details: { call_id: callId, tx_signature: error.payment.signature },
          },
        },
      );
      throw new AppError(error.code, error.message, {
        details: {
          call_id: callId,
          payment: { tx_signature: error.payment.signature, network: services.chain.network },
        },
      });
    }
    if (
      isChainError(error) &&
      error.signature &&
      error.lamportsSpent === undefined &&
      error.code !== 'expired'
    ) {
      // Sent, but the chain stopped answering before it said whether it landed. The call stays open
      // with its signature and keeps its Idempotency-Key, so a retry replays this answer instead of
      // paying a second time; reconciliation settles it once the chain answers.
      const unknown = {
        code: 'service_unavailable' as const,
        message:
          'The payment was sent but its outcome is not known yet. Do not retry with a new Idempotency-Key.',
        details: { call_id: callId, tx_signature: error.signature, outcome: 'unknown' },
      };
      await services.db
        .updateTable('call')
        .set({ tx_signature: error.signature, response: JSON.stringify({ error: unknown }) })
        .where('id', '=', callId)
        .execute();
      throw new AppError(unknown.code, unknown.message, { details: unknown.details });
    }
    await releaseCall(services.db, reservation);
    await closeUnpaid(services, callId);
    if (isChainError(error)) {
      // A transaction that landed and failed still cost its fee: booked, so the ledger agrees with the chain.
      await bookFailedTransactionFee(services, ledgerAccount.wallet(caller.wallet.id), error);
      if (error.code === 'insufficient_funds') {
        throw new AppError(
          'insufficient_funds',
          `The key's wallet cannot pay ${agent.price_display} for this call right now.`,
          {
            details: { asset: error.asset, wallet: caller.wallet.public_key },
          },
        );
      }
      throw new AppError(
        'service_unavailable',
        'The payment could not be made; nothing was charged. Try again.',
        {
          details: { reason: error.code },
        },
      );
    }
    throw error;
  }

  // After a payment, refill a wallet that runs low, in the background and at most once a second.
  refillSoon(services, caller.wallet);

  // 8. Record the usage and answer.
  const answer: CallAnswer = {
    id: callId,
    agent_id: agent.id,
    status: 'succeeded',
    output: paid.output,
    cost: {
      agent: Number(cost.agent),
      markup: Number(cost.markup),
      total: Number(cost.total),
      currency: 'USDC',
      decimals: 6,
      display: formatUsd(cost.total),
    },
    payment: { tx_signature: paid.payment.signature, network: services.chain.network },
    receipt_id: paid.receiptId,
    latency_ms: elapsed(started),
  };
  await recordPaidCall(services, caller, agent, callId, paid.payment, cost, {
    status: 'succeeded',
    latencyMs: answer.latency_ms,
    answer,
  });
  return { answer, headers };
}

const elapsed = (started: number) => Math.round(performance.now() - started);

function hashRequest(agentId: string, input: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([agentId, input]))
    .digest('hex');
}

type Opened = { callId: string } | { replay: CallAnswer };

/** How long a duplicate waits for the first request with its Idempotency-Key to finish. */
const duplicateWaitMs = 30_000;

async function openCall(
  services: Services,
  caller: VerifiedKey,
  agent: AgentListing,
  requestHash: string,
  idempotencyKey: string | undefined,
): Promise<Opened> {
  const callId = newId('call');
  try {
    await services.db
      .insertInto('call')
      .values({
        id: callId,
        api_key_id: caller.key.id,
        user_id: caller.user.id,
        agent_id: agent.id,
        status: 'pending',
        idempotency_key: idempotencyKey ?? null,
        request_hash: requestHash,
      })
      .execute();
    return { callId };
  } catch (error) {
    if (!idempotencyKey || !isUniqueViolation(error)) throw error;
  }
  // Another request holds this Idempotency-Key: replay its answer once it has one.
  const deadline = Date.now() + duplicateWaitMs;
  for (;;) {
    const first = await services.db
      .selectFrom('call')
      .select(['id', 'status', 'request_hash', 'response'])
      .where('api_key_id', '=', caller.key.id)
      .where('idempotency_key', '=', idempotencyKey)
      .executeTakeFirst();
    if (!first) return openCall(services, caller, agent, requestHash, idempotencyKey); // it failed unpaid and let go
    if (first.request_hash !== requestHash) {
      throw new AppError(
        'idempotency_conflict',
        'This Idempotency-Key was used with a different request body.',
        {
          details: { call_id: first.id },
        },
      );
    }
    // Finished, or left open with a stored answer (payment outcome unknown): replay it.
    if (first.status !== 'pending' || first.response) return replay(first.response as StoredResponse);
    if (Date.now() > deadline) {
      throw new AppError('idempotency_in_progress', 'A request with this Idempotency-Key is still running.', {
        details: { call_id: first.id },
        headers: { 'Retry-After': '1' },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface StoredError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}
type StoredResponse = { answer: CallAnswer } | { error: StoredError };

function replay(stored: StoredResponse): Opened {
  if ('answer' in stored) return { replay: stored.answer };
  throw new AppError(stored.error.code as ConstructorParameters<typeof AppError>[0], stored.error.message, {
    ...(stored.error.details ? { details: stored.error.details } : {}),
  });
}

/** A call that never paid: no usage, and its Idempotency-Key is free again for a retry. */
async function closeUnpaid(services: Services, callId: string): Promise<void> {
  await services.db
    .updateTable('call')
    .set({ status: 'not_paid', idempotency_key: null, finished_at: new Date() })
    .where('id', '=', callId)
    .execute();
}

/** The payment in the ledger and the usage on the call row, in one transaction. */
async function recordPaidCall(
  services: Services,
  caller: VerifiedKey,
  agent: AgentListing,
  callId: string,
  payment: PaymentProof,
  cost: { agent: bigint; markup: bigint; total: bigint },
  outcome:
    | { status: 'succeeded'; latencyMs: number; answer: CallAnswer }
    | { status: 'agent_failed' | 'agent_timeout'; latencyMs: number; error: StoredError },
): Promise<void> {
  const wallet = ledgerAccount.wallet(caller.wallet.id);
  const protocol = ledgerAccount.protocol(payment.protocolWallet);
  await services.db.transaction().execute(async (trx) => {
    await recordMovement(trx, {
      kind: 'agent_payment',
      walletId: caller.wallet.id,
      chainSignature: payment.signature,
      postings: [
        ...transferPostings(
          wallet,
          ledgerAccount.agentOwner(agent.owner_wallet),
          'usdc',
          payment.agentReceived,
        ),
        ...(payment.protocolFee > 0n ? transferPostings(wallet, protocol, 'usdc', payment.protocolFee) : []),
        ...chainCostPostings(wallet, payment.lamportsSpent),
      ],
      details: { call_id: callId, agent_id: agent.id },
    });
    await trx
      .updateTable('call')
      .set({
        status: outcome.status,
        agent_cost: cost.agent.toString(),
        markup: cost.markup.toString(),
        developer_cost: cost.total.toString(),
        network_fee: payment.lamportsSpent.toString(),
        tx_signature: payment.signature,
        receipt_id: callId,
        latency_ms: outcome.latencyMs,
        response_status:
          outcome.status === 'succeeded' ? 200 : outcome.status === 'agent_timeout' ? 504 : 502,
        response: JSON.stringify('answer' in outcome ? { answer: outcome.answer } : { error: outcome.error }),
        finished_at: new Date(),
      })
      .where('id', '=', callId)
      .execute();
    // At most once a minute per key (judged from the verified key, read at most a second ago): a hot
    // key must not turn every call into a write on one row.
    if (Date.now() - (caller.key.last_used_at?.getTime() ?? 0) > 60_000) {
      await trx
        .updateTable('api_key')
        .set({ last_used_at: new Date() })
        .where('id', '=', caller.key.id)
        .execute();
    }
  });
}
