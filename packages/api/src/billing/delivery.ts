import { type BillingCustomer, type BillingPort, BillingRefusedError } from '@tdk/core';
import { type Database, type MeterReportTable, toBigInt } from '@tdk/db';
import { enqueueJob } from '@tdk/jobs';
import { type ExpressionBuilder, type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Services } from '../services';
import { sealFinishedWindows } from './usage';

export const billingJobs = {
  /** Seals finished windows and sends every pending report; recurring. */
  deliver: 'billing.deliver',
  /** Creates an account's Stripe customer and subscription, and keeps its tier in step. */
  syncCustomer: 'billing.sync_customer',
} as const;

/**
 * How long after an attempt whose outcome is unknown its identifier may be sent again: Stripe dedupes
 * identifiers over a rolling window of at least 24 hours; the rest is margin.
 */
export const identifierWindowMs = 20 * 3600 * 1000;
/** Attempts after which a report that still fails raises the `billing_delivery_failing` alert. */
const alertAfterAttempts = 5;
/** A report being sent by one worker is not picked up by another for this long. */
const sendLeaseSeconds = 60;
const reportsPerBatch = 100;
const concurrentSends = 8;

/**
 * Marks an account as billable (on its first key) and has its Stripe customer created in the
 * background, in the caller's transaction: no key exists without its account being billed.
 */
export async function openBillingAccount(trx: Transaction<Database>, userId: string): Promise<void> {
  await trx
    .insertInto('billing_account')
    .values({ user_id: userId })
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
  await requestCustomerSync(trx, userId);
}

/**
 * Asks for the account's Stripe customer to be (re)synchronised, e.g. after a tier change. Not
 * deduplicated: a sync already running may have read the old tier, and an extra one is harmless.
 */
export async function requestCustomerSync(
  db: Kysely<Database> | Transaction<Database>,
  userId: string,
): Promise<void> {
  await enqueueJob(db, { kind: billingJobs.syncCustomer, payload: { user_id: userId } });
}

/**
 * The account's Stripe customer, created with its subscription on first need, and its tier written
 * to Stripe whenever it differs from what Stripe was last told.
 */
export async function syncCustomer(
  db: Kysely<Database>,
  billing: BillingPort,
  userId: string,
): Promise<BillingCustomer> {
  const user = await db
    .selectFrom('app_user')
    .leftJoin('billing_account', 'billing_account.user_id', 'app_user.id')
    .select([
      'app_user.email',
      'app_user.tier',
      'billing_account.stripe_customer_id',
      'billing_account.stripe_subscription_id',
      'billing_account.synced_tier',
    ])
    .where('app_user.id', '=', userId)
    .executeTakeFirstOrThrow();
  let customer: BillingCustomer | undefined =
    user.stripe_customer_id && user.stripe_subscription_id
      ? { customerId: user.stripe_customer_id, subscriptionId: user.stripe_subscription_id }
      : undefined;
  let syncedTier = user.synced_tier;
  if (!customer) {
    customer = await billing.ensureCustomer({ userId, email: user.email, tier: user.tier });
    syncedTier = user.tier;
  } else if (syncedTier !== user.tier) {
    await billing.updateTier(customer, user.tier);
    syncedTier = user.tier;
  }
  await db
    .insertInto('billing_account')
    .values({
      user_id: userId,
      stripe_customer_id: customer.customerId,
      stripe_subscription_id: customer.subscriptionId,
      subscription_status: 'active',
      synced_tier: syncedTier,
    })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({
        // Ids already recorded stay: an admin's resubscribe may have replaced the subscription read above.
        stripe_customer_id: sql`coalesce(billing_account.stripe_customer_id, excluded.stripe_customer_id)`,
        stripe_subscription_id: sql`coalesce(billing_account.stripe_subscription_id, excluded.stripe_subscription_id)`,
        synced_tier: syncedTier,
        updated_at: new Date(),
      }),
    )
    .execute();
  return customer;
}

export interface DeliveryResult {
  sealed: number;
  delivered: number;
  failed: number;
}

/**
 * Delivers usage to Stripe: seals the windows that are over, then sends each pending report as one
 * meter event whose identifier is the report's id. Reports are claimed with a lease (two workers
 * never send one at the same time), and a report sent but not marked (a crash, a lost answer) is
 * sent again with the same identifier, which Stripe counts once. Failures retry with backoff.
 * Stripe forgets identifiers after about a day: a report whose first unconfirmed attempt is older
 * than `identifierWindowMs` is settled from Stripe's own sums instead of being sent blind.
 */
export async function deliverUsage(services: Services): Promise<DeliveryResult> {
  const billing = services.billing.port;
  const result: DeliveryResult = { sealed: 0, delivered: 0, failed: 0 };
  if (!billing) return result;
  const { db } = services;
  result.sealed = await sealFinishedWindows(db, services.billing.reportIntervalMs);
  for (;;) {
    const claimed = await db
      .updateTable('meter_report')
      .set({
        next_attempt_at: sql`now() + make_interval(secs => ${sendLeaseSeconds})`,
        attempts: sql`attempts + 1`,
        // An attempt still marked in flight never recorded its outcome (a crash): it may have been counted.
        unconfirmed_since: sql`coalesce(unconfirmed_since, sending_since)`,
        sending_since: sql`now()`,
      })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('meter_report')
          .select('id')
          .where('status', '=', 'pending')
          .where('next_attempt_at', '<=', sql<Date>`now()`)
          .orderBy('window_start')
          .limit(reportsPerBatch)
          .forUpdate()
          .skipLocked(),
      )
      .returningAll()
      .execute();
    if (claimed.length === 0) return result;
    const customers = new Map<string, Promise<BillingCustomer>>();
    const customerOf = (userId: string) => {
      let found = customers.get(userId);
      if (!found) {
        found = knownCustomer(db, userId).then((c) => c ?? syncCustomer(db, billing, userId));
        customers.set(userId, found);
      }
      return found;
    };
    await forEachLimited(claimed, concurrentSends, async (report) => {
      let sent = false;
      try {
        const customer = await customerOf(report.user_id);
        const value = toBigInt(report.value);
        const pastWindow =
          report.unconfirmed_since !== null &&
          Date.now() - report.unconfirmed_since.getTime() >= identifierWindowMs;
        const counted = pastWindow ? await countedByStripe(db, billing, customer, report, value) : 'missing';
        if (counted === 'unsettled') {
          await holdReport(services, report);
          return;
        }
        if (counted === 'missing') {
          sent = true;
          await billing.reportUsage({
            customerId: customer.customerId,
            identifier: report.id,
            value,
            timestamp: meterTimestamp(report.window_start),
          });
        }
        await db
          .updateTable('meter_report')
          .set({
            status: 'delivered',
            delivered_at: new Date(),
            stripe_customer_id: customer.customerId,
            last_error: null,
            sending_since: null,
            unconfirmed_since: null,
            updated_at: new Date(),
          })
          .where(stillClaimed(report))
          .execute();
        result.delivered += 1;
      } catch (error) {
        result.failed += 1;
        const message = describe(error);
        // Unless Stripe refused it outright, what was sent may have been counted.
        const maybeCounted = sent && !(error instanceof BillingRefusedError);
        await db
          .updateTable('meter_report')
          .set({
            last_error: message,
            next_attempt_at: sql`now() + make_interval(secs => ${retryDelaySeconds(report.attempts)})`,
            unconfirmed_since: maybeCounted
              ? sql`coalesce(unconfirmed_since, sending_since)`
              : sql`unconfirmed_since`,
            sending_since: null,
            updated_at: new Date(),
          })
          .where(stillClaimed(report))
          .execute();
        if (report.attempts === alertAfterAttempts) {
          await services.alerts.raise({
            kind: 'billing_delivery_failing',
            severity: 'critical',
            message: `Usage could not be delivered to Stripe after ${report.attempts} attempts; it is kept and retried.`,
            details: { report_id: report.id, user_id: report.user_id, error: message },
          });
        }
      }
    });
  }
}

async function knownCustomer(db: Kysely<Database>, userId: string): Promise<BillingCustomer | undefined> {
  const row = await db
    .selectFrom('billing_account')
    .select(['stripe_customer_id', 'stripe_subscription_id'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.stripe_customer_id && row.stripe_subscription_id
    ? { customerId: row.stripe_customer_id, subscriptionId: row.stripe_subscription_id }
    : undefined;
}

/**
 * The report as this worker claimed it: not claimed again since (its lease ran out) and not resolved
 * by an admin meanwhile, so a late outcome never overwrites a newer one.
 */
const stillClaimed =
  (report: Selectable<MeterReportTable>) => (eb: ExpressionBuilder<Database, 'meter_report'>) =>
    eb.and([eb('id', '=', report.id), eb('attempts', '=', report.attempts), eb('status', '=', 'pending')]);

/** Stripe takes meter events from the past 35 days: older windows (a long offline spell) report as of 34 days ago. */
function meterTimestamp(windowStart: Date): Date {
  return new Date(Math.max(windowStart.getTime(), oldestMeterTimestamp()));
}

const oldestMeterTimestamp = () => Date.now() - 34 * 24 * 3600 * 1000;

/**
 * Whether Stripe counted a report, from its sum for the customer over the minute of the report's
 * timestamp, less the other reports of that minute (none with a report interval of a minute or
 * more). `unsettled` when that cannot tell: another sum, another report of the minute not settled
 * either, or a window old enough that earlier attempts sent another timestamp.
 */
async function countedByStripe(
  db: Kysely<Database>,
  billing: BillingPort,
  customer: BillingCustomer,
  report: Selectable<MeterReportTable>,
  value: bigint,
): Promise<'counted' | 'missing' | 'unsettled'> {
  if (report.window_start.getTime() < oldestMeterTimestamp()) return 'unsettled';
  const minute = new Date(Math.floor(report.window_start.getTime() / 60_000) * 60_000);
  const end = new Date(minute.getTime() + 60_000);
  const neighbours = await db
    .selectFrom('meter_report')
    .select([
      sql<string>`coalesce(sum(value) filter (where status = 'delivered'), 0)::text`.as('delivered'),
      sql<string>`count(*) filter (where status <> 'delivered')::text`.as('unsettled'),
    ])
    .where('user_id', '=', report.user_id)
    .where('window_start', '>=', minute)
    .where('window_start', '<', end)
    .where('id', '<>', report.id)
    .executeTakeFirstOrThrow();
  if (Number(neighbours.unsettled) > 0) return 'unsettled';
  const others = BigInt(neighbours.delivered);
  const total = await billing.usageTotal(customer.customerId, minute, end);
  if (total === others + value) return 'counted';
  return total === others ? 'missing' : 'unsettled';
}

/** Keeps a report out of delivery until an operator says whether Stripe has it (`resolveHeldReport`). */
async function holdReport(services: Services, report: Selectable<MeterReportTable>): Promise<void> {
  const message =
    "Sent more than a day ago with an unknown outcome, and Stripe's sums do not settle whether it was counted: check the customer's meter usage in Stripe, then resolve it.";
  const held = await services.db
    .updateTable('meter_report')
    .set({ status: 'held', last_error: message, sending_since: null, updated_at: new Date() })
    .where(stillClaimed(report))
    .executeTakeFirst();
  if (held.numUpdatedRows === 0n) return;
  await services.alerts.raise({
    kind: 'billing_report_held',
    subject: report.id,
    severity: 'critical',
    message: `A usage report for Stripe is held: ${message}`,
    details: {
      report_id: report.id,
      user_id: report.user_id,
      window_start: report.window_start.toISOString(),
    },
  });
}

/** 2, 4, 8 … seconds, up to 15 minutes, with jitter so failed reports do not retry in lockstep. */
function retryDelaySeconds(attempts: number): number {
  const base = Math.min(2 ** attempts, 900);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/** The error's message for admins, without a stack; Stripe's messages carry no secrets. */
function describe(error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return message.slice(0, 500);
}

async function forEachLimited<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await run(items[next++]!);
  });
  await Promise.all(lanes);
}
