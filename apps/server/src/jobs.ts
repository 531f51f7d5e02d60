import {
  billingJobs,
  callJobHandlers,
  deliverUsage,
  fundLater,
  fundNewWallet,
  moneyJobs,
  reconcileBalances,
  recoverCalls,
  type Services,
  settleJournal,
  syncCustomer,
  topUpIfLow,
} from '@tdk/api';
import { combineWorkers, createWorker, type JobHandler, type Worker } from '@tdk/jobs';
import type { Config } from './config';
import type { Logger } from './logger';

/**
 * The job runner of this process and what it runs: async calls in slots of their own, so calls
 * waiting on slow agents never hold back usage delivery, top-ups or recovery. Billing jobs are only
 * claimed while Stripe is configured, so offline usage stays queued until a process with a key
 * picks it up.
 */
export function createJobWorker(services: Services, config: Config, logger: Logger): Worker {
  const billing = services.billing.port;
  const onError = (err: unknown, job: unknown) =>
    logger.warn({ err, job }, job ? 'job failed' : 'job runner poll failed');
  const calls = createWorker({
    db: services.db,
    handlers: callJobHandlers(services),
    concurrency: config.worker.callConcurrency,
    onError,
  });
  const handlers: Record<string, JobHandler> = {
    [moneyJobs.fundWallet]: async ({ payload }) => {
      await fundNewWallet(services, walletIdOf(payload));
    },
    [moneyJobs.topUp]: async ({ payload }) => {
      const wallet = await services.db
        .selectFrom('wallet')
        .selectAll()
        .where('id', '=', walletIdOf(payload))
        .executeTakeFirstOrThrow();
      await topUpIfLow(services, wallet);
    },
    [moneyJobs.recover]: async () => {
      const afterMs = config.worker.recoveryAfterMs;
      await recoverCalls(services, afterMs);
      for (const walletId of await settleJournal(services, afterMs)) await fundLater(services, walletId);
    },
    [moneyJobs.reconcile]: async () => {
      const report = await reconcileBalances(services);
      if (report.differences.length > 0) {
        await services.alerts.raise({
          kind: 'reconciliation_difference',
          severity: 'critical',
          message: `The ledger and the chain differ on ${report.differences.length} balance(s); run \`tdk reconcile\`.`,
          details: { differences: report.differences.slice(0, 20) },
        });
      }
    },
    ...(billing
      ? {
          [billingJobs.deliver]: async () => {
            await deliverUsage(services);
          },
          [billingJobs.syncCustomer]: async ({ payload }) => {
            await syncCustomer(services.db, billing, (payload as { user_id: string }).user_id);
          },
        }
      : {}),
  };
  const system = createWorker({
    db: services.db,
    handlers,
    concurrency: config.worker.concurrency,
    recurring: [
      { kind: moneyJobs.recover, everyMs: Math.min(config.worker.recoveryAfterMs, 30_000) },
      ...(billing ? [{ kind: billingJobs.deliver, everyMs: config.billing.deliveryIntervalMs }] : []),
      ...(config.worker.reconcileIntervalMs > 0
        ? [{ kind: moneyJobs.reconcile, everyMs: config.worker.reconcileIntervalMs }]
        : []),
    ],
    onError,
  });
  return combineWorkers([calls, system]);
}

function walletIdOf(payload: unknown): string {
  return (payload as { wallet_id: string }).wallet_id;
}
