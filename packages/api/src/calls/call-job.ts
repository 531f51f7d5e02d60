import { AppError, isAppError } from '@tdk/core';
import type { JobHandler } from '@tdk/jobs';
import { assertMayCall, callerOf, type VerifiedKey } from '../keys/verifier';
import type { Services } from '../services';
import { runCall, runCallJob } from './call-agent';
import { changeCallStatus, closeUnpaid, interruptedError, markOutcomeUnknown } from './lifecycle';

/** The job handlers of async calls, for the worker. */
export function callJobHandlers(services: Services): Record<string, JobHandler> {
  return {
    [runCallJob]: async ({ payload }) => {
      await runQueuedCall(services, (payload as { call_id: string }).call_id);
    },
  };
}

/**
 * Runs an async call from where it stands. A job runs at least once: when its worker stops mid-call
 * (the lease runs out), it runs again, so each status decides and nothing is paid twice:
 * - `queued`: claimed by a conditional move to `paying`; of two runs, one wins and the other stops.
 * - `paying`: an earlier run stopped before paying (a payment needs the move to `running` first, and
 *   that run loses it now): closed as failed, nothing paid. Its reservation, if it had made one,
 *   stays counted: at most one call of quota and spend, never money.
 * - `running`: an earlier run may have sent the payment: never paid again. The call stays open with
 *   its outcome not known, as a synchronous call does when the chain goes quiet.
 * - finished: nothing to do.
 */
async function runQueuedCall(services: Services, callId: string): Promise<void> {
  const { db } = services;
  const call = await db
    .selectFrom('call')
    .select(['status', 'api_key_id', 'agent_id', 'input'])
    .where('id', '=', callId)
    .executeTakeFirst();
  if (!call) return;
  if (call.status === 'paying') {
    await closeUnpaid(db, callId, 'paying', interruptedError(callId));
    return;
  }
  if (call.status === 'running') {
    const unknown = new AppError(
      'service_unavailable',
      'The call was interrupted after its payment may have been sent; its outcome is not known yet.',
      { details: { call_id: callId, outcome: 'unknown' } },
    );
    return markOutcomeUnknown(db, callId, unknown);
  }
  if (call.status !== 'queued' || !(await changeCallStatus(db, callId, 'queued', 'paying'))) return;

  const started = performance.now();
  try {
    const agent = await services.marketplace.getAgent(call.agent_id);
    if (!agent || agent.status !== 'active') {
      const gone = new AppError('agent_not_found', `The agent ${call.agent_id} is no longer available.`);
      await closeUnpaid(db, callId, 'paying', gone);
      return;
    }
    // The key was checked when the call was queued; it may have been revoked (or its account
    // suspended, its invoice left unpaid) since.
    const caller = await payerOf(services, call.api_key_id);
    try {
      assertMayCall(caller);
    } catch (refused) {
      if (!isAppError(refused)) throw refused;
      await closeUnpaid(db, callId, 'paying', refused);
      return;
    }
    await runCall(services, { id: callId, caller, agent, input: call.input, started });
  } catch (error) {
    // An AppError is the call's recorded outcome. Anything else retries the job, which then finds the
    // call past `queued` and settles it as above.
    if (!isAppError(error)) throw error;
  }
}

/** The key, wallet, owner and billing status of a call, read again (a job or recovery has only the call row). */
export async function payerOf(services: Services, keyId: string): Promise<VerifiedKey> {
  const { db } = services;
  const key = await db.selectFrom('api_key').selectAll().where('id', '=', keyId).executeTakeFirstOrThrow();
  return callerOf(db, key);
}
