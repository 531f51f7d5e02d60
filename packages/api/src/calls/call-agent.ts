import { createHash } from 'node:crypto';
import {
  type AgentListing,
  AppError,
  type ChainError,
  developerCost,
  type ErrorCode,
  formatUsd,
  isAppError,
  isChainError,
  isPaidCallError,
  ledgerAccount,
  newId,
  type PaymentProof,
  type PlannedPayment,
  transferPostings,
} from '@tdk/core';
import { type Database, isUniqueViolation, prepared } from '@tdk/db';
import { enqueueJob } from '@tdk/jobs';
import { createSchemaValidator } from '@tdk/marketplace';
import { type Kysely, sql } from 'kysely';
import { stringify as stableStringify } from 'safe-stable-stringify';
import { assertUsageRecorded, usageWrites } from '../billing/usage';
import { assertMayCall, type VerifiedKey } from '../keys/verifier';
import { fundNewWallet, refillSoon, topUpIfLow, waitForRefill } from '../money/funding';
import {
  assertBooked,
  bookingWrites,
  inDoubt,
  journalEntry,
  journalTransaction,
  type PlannedMovement,
  settleFailedSend,
} from '../money/journal';
import { signerOf } from '../money/wallets';
import type { Services } from '../services';
import {
  callWrites,
  closeUnpaid,
  finishedStatuses,
  markOutcomeUnknown,
  type StoredError,
  statusChange,
  storedError,
  writeCall,
} from './lifecycle';
import {
  callerTier,
  closeStarted,
  type Reservation,
  type Reserved,
  releaseWrites,
  reservedColumns,
  reserveWrites,
  runningData,
  startCall,
  takeCallRate,
  throwUnlessReserved,
} from './limits';
import type { CallAccepted, CallAnswer } from './schemas';

const inputSchemas = createSchemaValidator();

/** The job kind that runs an async call; its payload is `{ call_id }` (see `call-job.ts`). */
export const runCallJob = 'call.run';

export interface CallRequest {
  agentId: string;
  input: unknown;
  idempotencyKey: string | undefined;
  /** Answer at once with the queued call; a job runs steps 5–8. */
  async: boolean;
}

/** Who pays for a call: the key, its wallet and its owner. */
export type Payer = Pick<VerifiedKey, 'key' | 'wallet' | 'user'>;

/**
 * The story of a paid call. Nothing moves money until the caller, the limits, the agent and the
 * input have all been checked; once the payment lands, the call is recorded whatever the agent does.
 */
export async function callAgent(
  services: Services,
  caller: VerifiedKey,
  request: CallRequest,
): Promise<{ answer: CallAnswer | CallAccepted; headers: Record<string, string> }> {
  const started = performance.now();
  let agent: AgentListing | undefined;
  let headers: Record<string, string> = {};
  try {
    // 1. The account may pay (its last invoice is not unpaid), and the key's rate limit.
    assertMayCall(caller);
    headers = await takeCallRate(services.callLimits, services.tiers, caller.user.tier, caller.key.id);

    // 2. The agent and its price.
    agent = await services.marketplace.getAgent(request.agentId);
    if (!agent || agent.status !== 'active') {
      throw new AppError(
        'agent_not_found',
        `No agent ${JSON.stringify(request.agentId)}. List them at GET /api/tdk/agents.`,
      );
    }

    // 3. The input against the agent's schema — before any money moves.
    const issues = inputSchemas.validate(agent.input_schema, request.input);
    if (issues.length > 0) {
      throw new AppError(
        'invalid_input',
        `The input does not match the ${agent.name} agent's input schema.`,
        {
          details: { issues },
        },
      );
    }
  } catch (error) {
    // A retry of a call already made answers as that call did, even when a new call would be
    // refused now (rate limited, the agent since disabled, the account past due): only on this
    // path, so a call that passes its checks makes no extra round trip.
    if (!request.idempotencyKey) throw error;
    agent ??= await services.marketplace.getAgent(request.agentId);
    const stored = await earlierCall(services, caller, request, agent && hashRequest(agent.id, request));
    if (!stored) throw error;
    return { answer: stored.replay, headers: { ...headers, ...replayedHeader } };
  }

  // 4. Idempotency: one call row per (key, Idempotency-Key); a replay answers from it. An async
  // call is queued here with its job and answered at once; the job runs steps 5–8 (`call-job.ts`).
  // A synchronous call from a funded wallet is opened already started: the statement that inserts
  // it also takes step 6's reservation, one round trip fewer on the hot path.
  const startNow = !request.async && caller.wallet.funded_at !== null;
  const opened = await openCall(services, caller, agent, request, startNow);
  if ('replay' in opened) return { answer: opened.replay, headers: { ...headers, ...replayedHeader } };
  if (request.async) {
    services.jobs.wake();
    return { answer: acceptedCall(opened.callId, agent.id), headers };
  }
  const answer = await runCall(services, {
    id: opened.callId,
    caller,
    agent,
    input: request.input,
    started,
    reservation: opened.reservation,
  });
  return { answer, headers };
}

export interface CallRun {
  id: string;
  caller: Payer;
  agent: AgentListing;
  input: unknown;
  /** `performance.now()` when the call started, for its latency. */
  started: number;
  /** What the call reserved when it was opened already `running` (steps 5–6 done); else it is in `paying`. */
  reservation?: Reservation | undefined;
}

/**
 * Steps 5–8 of a call in `paying`, the same for a synchronous call and for the job of an async one.
 * Each outcome is recorded on the call before it returns or throws.
 */
export async function runCall(services: Services, call: CallRun): Promise<CallAnswer> {
  const { id: callId, caller, agent } = call;
  const tier = callerTier(services.tiers, caller);

  const cost = developerCost(agent.price_base, tier.markupBps);
  let reservation = call.reservation;
  if (!reservation) {
    // 5. Funds: a wallet never funded (its initial funding failed) is funded before its first payment.
    // 6. Quota and spend cap reserved, and the call moved to `running`, in one statement. Only the
    // run that moves the call to `running` may send a payment: a job re-run that found this call
    // stuck in `paying` has closed it (see `call-job.ts`), and then this run stops.
    try {
      if (!caller.wallet.funded_at) await fundNewWallet(services, caller.wallet.id);
      reservation = await startCall(services.db, tier, caller.key.id, callId, cost.total);
    } catch (error) {
      await recordUnpaid(services, callId, error);
      throw error;
    }
  }

  // 7. Pay and call. Top-ups stay off this path: the chain refuses an overdraft by itself, and only
  // then is the wallet refilled (once, by one request; the others wait for it) and the payment tried again.
  // Each payment is written in the chain journal once signed, before it is sent; a payment that
  // surely moved nothing is dropped from it at once, one that may still land is left for recovery.
  // The payments this run wrote in the journal, by signature, to book the one that lands.
  const journaled = new Map<string, PlannedMovement>();
  const payAndCall = async () => {
    let signature: string | undefined;
    try {
      return await services.marketplace.callAgent({
        agent,
        input: call.input,
        payer: signerOf(services, caller.wallet),
        intentId: callId,
        beforePay: async (planned) => {
          signature = planned.signature;
          const movement = plannedPayment(caller, agent, callId, planned);
          journaled.set(planned.signature, movement);
          await journalTransaction(services.db, planned.signature, movement);
        },
      });
    } catch (error) {
      if (isChainError(error)) await settleFailedSend(services.db, signature, error);
      throw error;
    }
  };
  let paid: { output: unknown; payment: PaymentProof; receiptId: string };
  try {
    paid = await payAndCall().catch(async (error: unknown) => {
      // A refusal that may still land (a platform's 402 the chain has not settled) is never followed
      // by a second payment: it is an unknown outcome, below.
      if (!isChainError(error) || error.code !== 'insufficient_funds' || inDoubt(error)) throw error;
      // Refilled by this request, or by another one that got there first (waited for while it runs):
      // pay once more. A wallet still short is refused by the chain again, before anything moves.
      const topUp = await topUpIfLow(services, caller.wallet);
      if (topUp.usdc === 0n && topUp.lamports === 0n) await waitForRefill(services.db, caller.wallet.id);
      return payAndCall();
    });
  } catch (error) {
    if (isPaidCallError(error)) {
      // Paid, but the agent failed: record the payment; the developer is not billed for it, and
      // what the agent was paid counts toward the key's spend cap.
      const failure = new AppError(error.code, error.message, {
        details: {
          call_id: callId,
          payment: { tx_signature: error.payment.signature, network: services.chain.network },
        },
      });
      await recordPaidCall(
        services,
        caller,
        callId,
        error.payment,
        { agent: error.payment.agentReceived + error.payment.protocolFee, markup: 0n, total: 0n },
        { latencyMs: elapsed(call.started), error: failure, release: reservation },
        journaled.get(error.payment.signature),
      );
      throw failure;
    }
    if (isChainError(error) && inDoubt(error)) {
      // Sent, but the chain stopped answering before it said whether it landed. Reconciliation
      // settles it once the chain answers; a wallet it found short is refilled meanwhile.
      if (error.code === 'insufficient_funds') refillSoon(services, caller.wallet);
      const unknown = new AppError(
        'service_unavailable',
        'The payment was sent but its outcome is not known yet. Do not retry with a new Idempotency-Key.',
        { details: { call_id: callId, tx_signature: error.signature, outcome: 'unknown' } },
      );
      await markOutcomeUnknown(services.db, callId, unknown, error.signature);
      throw unknown;
    }
    const failure = isChainError(error) ? paymentRefused(error, agent, caller.wallet.public_key) : error;
    await closeStarted(services.db, callId, shownError(failure), reservation);
    throw failure;
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
    latency_ms: elapsed(call.started),
  };
  await recordPaidCall(
    services,
    caller,
    callId,
    paid.payment,
    cost,
    { latencyMs: answer.latency_ms, answer },
    journaled.get(paid.payment.signature),
  );
  return answer;
}

/** Why a payment the chain refused (or that never went out) did not happen; nothing was charged. */
function paymentRefused(error: ChainError, agent: AgentListing, wallet: string): AppError {
  if (error.code === 'insufficient_funds') {
    return new AppError(
      'insufficient_funds',
      `The key's wallet cannot pay ${agent.price_display} for this call right now.`,
      { details: { asset: error.asset, wallet } },
    );
  }
  return new AppError(
    'service_unavailable',
    'The payment could not be made; nothing was charged. Try again.',
    {
      details: { reason: error.code },
    },
  );
}

/** Closes a call in `paying` (nothing reserved, nothing paid) with the error it ended with. */
async function recordUnpaid(services: Services, callId: string, error: unknown): Promise<void> {
  await closeUnpaid(services.db, callId, 'paying', shownError(error));
}

/** The error a call that paid nothing is closed with: unexpected ones are not shown. */
const shownError = (error: unknown) =>
  isAppError(error)
    ? error
    : new AppError('internal_error', 'Something went wrong on our side; nothing was paid. Try again.');

/** The answer to an async call, and to each replay of it. */
function acceptedCall(id: string, agentId: string): CallAccepted {
  return {
    id,
    status: 'queued',
    agent_id: agentId,
    links: { self: `/api/tdk/v1/calls/${id}`, events: `/api/tdk/v1/calls/${id}/events` },
  };
}

const elapsed = (started: number) => Math.round(performance.now() - started);

/**
 * What makes two requests with one Idempotency-Key the same call. Object keys are sorted, as JSON
 * does not order them: a client that rebuilds its body for a retry may write them in another order.
 * The async flag is part of the request (a key replays a call in its own mode).
 */
function hashRequest(agentId: string, request: CallRequest): string {
  const parts = request.async ? [agentId, request.input, 'async'] : [agentId, request.input];
  return createHash('sha256').update(stableStringify(parts)).digest('hex');
}

type Replayed = { replay: CallAnswer | CallAccepted };
type Opened = { callId: string; reservation?: Reservation } | Replayed;

/** How long a duplicate waits for the first request with its Idempotency-Key to finish. */
const duplicateWaitMs = 30_000;

/**
 * Inserts the call (`paying`, or `queued` with its job for an async call), or finds its replay.
 * With `startNow` the call is inserted `running` with its reservation taken in the same statement
 * (`paying` first in its events), or closed with the limit's error when the reservation failed.
 */
async function openCall(
  services: Services,
  caller: VerifiedKey,
  agent: AgentListing,
  request: CallRequest,
  startNow = false,
): Promise<Opened> {
  const callId = newId('call');
  const requestHash = hashRequest(agent.id, request);
  const { idempotencyKey } = request;
  const status = request.async ? 'queued' : 'paying';
  const insert = (db: Kysely<Database>) =>
    writeCall(
      db,
      callWrites(
        sql`insert into call (id, api_key_id, user_id, agent_id, status, idempotency_key, request_hash, input, last_event_seq)
        values (${callId}, ${caller.key.id}, ${caller.user.id}, ${agent.id}, ${status}, ${idempotencyKey ?? null},
          ${requestHash}, ${request.async ? JSON.stringify(request.input ?? null) : null}, 1)
        returning id, last_event_seq`,
        status,
      ),
    );
  const insertStarted = async (): Promise<Reservation> => {
    const now = new Date();
    const tier = callerTier(services.tiers, caller);
    const spend = developerCost(agent.price_base, tier.markupBps).total;
    const { reservation, writes } = reserveWrites(tier, caller.key.id, spend, now);
    const { rows } = await prepared(sql<Reserved>`
      with ${writes},
      changed as (
        insert into call (id, api_key_id, user_id, agent_id, status, idempotency_key, request_hash, last_event_seq)
        select ${callId}, ${caller.key.id}, ${caller.user.id}, ${agent.id},
          case when exists (select from month) then 'running' else 'paying' end,
          ${idempotencyKey ?? null}, ${requestHash}, case when exists (select from month) then 2 else 1 end
        returning id, status),
      event as (
        insert into call_event (call_id, seq, status, data)
        select id, 1, 'paying', '{}'::jsonb from changed
        union all
        select id, 2, 'running', ${JSON.stringify(runningData(reservation))}::jsonb from changed
        where status = 'running')
      select ${reservedColumns}`).execute(services.db);
    try {
      await throwUnlessReserved(services.db, tier, reservation, rows[0]!, now);
    } catch (error) {
      await recordUnpaid(services, callId, error);
      throw error;
    }
    return reservation;
  };
  try {
    if (request.async) {
      await services.db.transaction().execute(async (trx) => {
        await insert(trx);
        await enqueueJob(trx, { kind: runCallJob, payload: { call_id: callId } });
      });
    } else if (startNow) {
      return { callId, reservation: await insertStarted() };
    } else {
      await insert(services.db);
    }
    return { callId };
  } catch (error) {
    if (!idempotencyKey || !isUniqueViolation(error)) throw error;
  }
  // Another request holds this Idempotency-Key: replay its answer once it has one.
  return (
    (await earlierCall(services, caller, request, requestHash)) ??
    // It failed unpaid and let go of the key: this request makes the call.
    openCall(services, caller, agent, request, startNow)
  );
}

/**
 * The call this key made before with the request's Idempotency-Key, answered as it was (once it has
 * an answer), or undefined when there is none. A different request body, or no `requestHash` (this
 * request names no agent it could have called), is a conflict.
 */
async function earlierCall(
  services: Services,
  caller: VerifiedKey,
  request: CallRequest,
  requestHash: string | undefined,
): Promise<Replayed | undefined> {
  if (!request.idempotencyKey) return undefined;
  const deadline = Date.now() + duplicateWaitMs;
  for (;;) {
    const first = await services.db
      .selectFrom('call')
      .select(['id', 'agent_id', 'status', 'request_hash', 'response'])
      .where('api_key_id', '=', caller.key.id)
      .where('idempotency_key', '=', request.idempotencyKey)
      .executeTakeFirst();
    if (!first) return undefined;
    if (first.request_hash !== requestHash) {
      throw new AppError(
        'idempotency_conflict',
        'This Idempotency-Key was used with a different request body.',
        {
          details: { call_id: first.id },
        },
      );
    }
    // An async call's answer is its acceptance, whatever has happened to it since.
    if (request.async) return { replay: acceptedCall(first.id, first.agent_id) };
    // Finished, or left open with a stored answer (payment outcome unknown): replay it.
    if (finishedStatuses.includes(first.status) || first.response) {
      return replay(first.response as StoredResponse);
    }
    if (Date.now() > deadline) {
      throw new AppError('idempotency_in_progress', 'A request with this Idempotency-Key is still running.', {
        details: { call_id: first.id },
        headers: { 'Retry-After': '1' },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

type StoredResponse = { answer: CallAnswer } | { error: StoredError };

/** As Stripe marks a replayed answer: a retry can tell that nothing was done (or paid) again. */
const replayedHeader = { 'Idempotent-Replayed': 'true' };

function replay(stored: StoredResponse): Replayed {
  if ('answer' in stored) return { replay: stored.answer };
  throw new AppError(stored.error.code as ErrorCode, stored.error.message, {
    ...(stored.error.details ? { details: stored.error.details } : {}),
    headers: replayedHeader,
  });
}

/** The movement a call's payment will be: from the key's wallet, to the agent's owner and the protocol. */
function plannedPayment(
  caller: Payer,
  agent: AgentListing,
  callId: string,
  planned: PlannedPayment,
): PlannedMovement {
  const wallet = ledgerAccount.wallet(caller.wallet.id);
  return {
    movementId: newId('movement'),
    kind: 'agent_payment',
    walletId: caller.wallet.id,
    callId,
    payer: wallet,
    postings: [
      ...transferPostings(
        wallet,
        ledgerAccount.agentOwner(agent.owner_wallet),
        'usdc',
        planned.agentReceived,
      ),
      ...(planned.protocolFee > 0n
        ? transferPostings(
            wallet,
            ledgerAccount.protocol(planned.protocolWallet),
            'usdc',
            planned.protocolFee,
          )
        : []),
    ],
    details: { call_id: callId, agent_id: agent.id },
  };
}

/**
 * A paid call whose agent failed is not billed, but what the agent was paid stays counted in the
 * key's monthly spend: the cap bounds what a key's wallet pays out, and an agent that takes payment
 * and then fails (on a platform where anyone may list one) must not be a way around it.
 */
function unbilledRelease(reservation: Reservation | undefined, paidToAgent: bigint): Reservation | undefined {
  if (!reservation) return undefined;
  const kept = paidToAgent < reservation.spend ? paidToAgent : reservation.spend;
  return { ...reservation, spend: reservation.spend - kept };
}

/**
 * The payment in the ledger (its journal entry booked), the call finished with its usage, and the
 * usage in the account's open report for Stripe: one statement, so all of it or none. Also how
 * recovery settles a call paid by a process that died before recording it. `planned` is the
 * payment's journal entry when the caller has it at hand; otherwise it is read.
 */
export async function recordPaidCall(
  services: Services,
  caller: Payer,
  callId: string,
  payment: Pick<PaymentProof, 'signature' | 'lamportsSpent'>,
  cost: { agent: bigint; markup: bigint; total: bigint },
  outcome: { latencyMs: number | null } & (
    | { answer: CallAnswer }
    // A failed call is not billed: `release` gives back, with the record, what it reserved beyond
    // what the agent was paid (see `unbilledRelease`).
    | { error: AppError; release?: Reservation | undefined }
  ),
  planned?: PlannedMovement,
): Promise<void> {
  const entry = planned ?? (await journalEntry(services.db, payment.signature));
  if (!entry) throw new Error(`no journal entry for transaction ${payment.signature}`);
  const finish = statusChange(callId, 'running', 'answer' in outcome ? 'succeeded' : 'failed', {
    set: {
      agent_cost: cost.agent.toString(),
      markup: cost.markup.toString(),
      developer_cost: cost.total.toString(),
      network_fee: payment.lamportsSpent.toString(),
      tx_signature: payment.signature,
      receipt_id: callId,
      latency_ms: outcome.latencyMs,
      response_status: 'answer' in outcome ? 200 : outcome.error.status,
      response: JSON.stringify(
        'answer' in outcome ? { answer: outcome.answer } : { error: storedError(outcome.error) },
      ),
      finished_at: new Date(),
    },
    ...('error' in outcome ? { data: { error: storedError(outcome.error) } } : {}),
  });
  // Billed calls are reported to Stripe from this record, written with the payment or not at all.
  const billed = cost.total > 0n;
  const usage = usageWrites({
    userId: caller.user.id,
    amount: cost.total,
    at: new Date(),
    intervalMs: services.billing.reportIntervalMs,
  });
  // At most once a minute per key (judged from the verified key, read at most a second ago): a hot
  // key must not turn every call into a write on one row.
  const keyUsed = sql`key_used as (update api_key set last_used_at = now() where id = ${caller.key.id})`;
  const touchKey = Date.now() - (caller.key.last_used_at?.getTime() ?? 0) > 60_000;
  // Its payment can be booked from the journal only once: by the run that sent it, or by recovery
  // of a call left `running`.
  const finished = sql<boolean>`tdk_assert(exists (select from changed),
    ${`call ${callId} was not running when its payment was recorded`})`;
  const writes = [
    bookingWrites(payment.signature, entry, payment.lamportsSpent),
    finish,
    ...(billed ? [usage] : []),
    ...(touchKey ? [keyUsed] : []),
    ...('error' in outcome
      ? releaseWrites(unbilledRelease(outcome.release, cost.agent), { keepCall: true })
      : []),
  ];
  const checks = [assertBooked(payment.signature), finished, ...(billed ? [assertUsageRecorded] : [])];
  await prepared(sql`with ${sql.join(writes)} select ${sql.join(checks)}`).execute(services.db);
}
