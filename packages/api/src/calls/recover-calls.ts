import { AppError, agentTimeoutMs } from '@tdk/core';
import { sql } from 'kysely';
import { dropTransaction } from '../money/journal';
import { settledOnChain } from '../money/recovery';
import type { Services } from '../services';
import { recordPaidCall } from './call-agent';
import { payerOf } from './call-job';
import { closeUnpaid, interruptedError } from './lifecycle';
import { closeStarted, reservationOf } from './limits';

/**
 * Settles calls whose process stopped in the middle (a crash, a kill, a lost connection to the
 * chain): every call still `paying` or `running` long after it got there. What the chain says
 * about its journaled payment decides:
 * - no payment sent, or one that never landed: failed, nothing paid, its Idempotency-Key free again;
 * - landed and failed: the fee booked, failed, nothing else paid;
 * - landed: the payment booked and the call failed as interrupted after payment — the agent's answer
 *   is lost, so it is recorded and not billed, like any agent failure after payment.
 * `afterMs` must exceed the longest default agent timeout (of an agent type) plus the payment's
 * confirmation time, so a live process is never overtaken; a call to an agent registered with a
 * longer timeout of its own waits that much longer before it counts as stuck.
 */
export async function recoverCalls(services: Services, afterMs: number): Promise<number> {
  const { db } = services;
  const typeTimeout = sql`case agent.agent_type ${sql.join(
    Object.entries(agentTimeoutMs).map(([type, ms]) => sql`when ${type} then ${ms}::int`),
    sql` `,
  )} end`;
  const overtime = sql`case when call.status = 'running'
    then greatest(0, coalesce(agent.timeout_ms, 0) - ${typeTimeout}) else 0 end`;
  const stuck = await db
    .selectFrom('call')
    // Remote (Tetto) agents have no row here: their timeouts are the type defaults.
    .leftJoin('agent', 'agent.id', 'call.agent_id')
    .select(['call.id', 'call.status', 'call.api_key_id'])
    .where('call.status', 'in', ['paying', 'running'])
    // Its last step: a status change, or a payment signed (a run that refilled the wallet pays again
    // later, and then still waits on the agent).
    .where(
      sql<Date>`greatest((select max(at) from call_event e where e.call_id = call.id),
        (select max(created_at) from chain_intent i where i.call_id = call.id))`,
      '<',
      sql<Date>`now() - make_interval(secs => (${afterMs}::int8 + ${overtime}) / 1000.0)`,
    )
    .orderBy('call.created_at')
    .limit(200)
    .execute();
  let settled = 0;
  for (const call of stuck) {
    if (call.status === 'paying') {
      await closeUnpaid(db, call.id, 'paying', interruptedError(call.id));
      settled += 1;
      continue;
    }
    const intent = await db
      .selectFrom('chain_intent')
      .select(['signature', 'postings'])
      .where('call_id', '=', call.id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    const reservation = await reservationOf(db, call);
    const closeUnpaidStarted = () => closeStarted(db, call.id, interruptedError(call.id), reservation);
    if (!intent) {
      await closeUnpaidStarted();
      settled += 1;
      continue;
    }
    const onChain = await settledOnChain(services, intent.signature);
    if (!onChain) continue;
    if (onChain.outcome === 'landed') {
      // What left the wallet: the agent's share and the protocol fee, the price.
      const price = intent.postings.reduce(
        (sum, p) => (BigInt(p.amount) > 0n ? sum + BigInt(p.amount) : sum),
        0n,
      );
      const lost = new AppError(
        'agent_failed',
        "The call was interrupted after its payment landed; the agent's answer was lost. It is recorded and not billed.",
        { details: { call_id: call.id, tx_signature: intent.signature, reason: 'interrupted' } },
      );
      await recordPaidCall(
        services,
        await payerOf(services, call.api_key_id),
        call.id,
        { signature: intent.signature, lamportsSpent: onChain.lamportsSpent },
        { agent: price, markup: 0n, total: 0n },
        // Recorded and not billed, like any agent failure after payment: the call counts, and what
        // the agent was paid counts toward the spend cap.
        { latencyMs: null, error: lost, release: reservation },
      );
    } else {
      await dropTransaction(
        db,
        intent.signature,
        onChain.outcome === 'failed' ? onChain.lamportsSpent : undefined,
      );
      await closeUnpaidStarted();
    }
    settled += 1;
  }
  return settled;
}
