import { AppError, keyTier, type Tier, type TierName, tierNames } from '@tdk/core';
import { type Database, toBigInt } from '@tdk/db';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { takePoint } from '../auth/limits';
import type { LimiterFactory } from '../services';
import { interruptedError, statusChange, unpaidClose, writeCall } from './lifecycle';

/** The limits a key's calls run under: its owner's tier, with the key's own spend cap when lower. */
export function callerTier(
  tiers: Record<TierName, Tier>,
  caller: { user: { tier: TierName }; key: { monthly_spend_cap: bigint | string | number | null } },
): Tier {
  const { monthly_spend_cap: cap } = caller.key;
  return keyTier(tiers[caller.user.tier], cap === null ? null : toBigInt(cap));
}

/** Per-key calls per minute, one limiter per tier, built once at start on the configured store. */
export interface CallLimits {
  perMinute: Record<TierName, RateLimiterAbstract>;
}

export function createCallLimits(limiter: LimiterFactory, tiers: Record<TierName, Tier>): CallLimits {
  return {
    perMinute: Object.fromEntries(
      tierNames.map((tier) => [
        tier,
        limiter({ keyPrefix: `calls_${tier}`, points: tiers[tier].callsPerMinute, duration: 60 }),
      ]),
    ) as Record<TierName, RateLimiterAbstract>,
  };
}

/**
 * One request of a key against its tier's rate per minute: a paid call, or (`'read'`) a read of its
 * calls and usage, which has an allowance of the same size of its own, so polling never eats into calls.
 */
export async function takeCallRate(
  limits: CallLimits,
  tiers: Record<TierName, Tier>,
  tier: TierName,
  keyId: string,
  kind: 'call' | 'read' = 'call',
) {
  const limit = tiers[tier].callsPerMinute;
  return takePoint(
    limits.perMinute[tier],
    kind === 'call' ? keyId : `read:${keyId}`,
    limit,
    `Rate limit: your tier allows ${limit} ${kind === 'call' ? 'calls' : 'reads'} per minute per key.`,
  );
}

export const dayPeriod = (at: Date) => `day:${at.toISOString().slice(0, 10)}`;
export const monthPeriod = (at: Date) => `month:${at.toISOString().slice(0, 7)}`;

export interface Reservation {
  keyId: string;
  day: string;
  month: string;
  spend: bigint;
}

/**
 * Starts a call in `paying`: reserves one of the day's included calls and `spend` of the month's
 * cap, and with them moves the call to `running`, in one statement. The reservation is conditional
 * writes that only succeed under the limits, so concurrent calls can never pass them together; and
 * a call never holds a reservation while in `paying`, so one closed there (its run died, or a job
 * re-run overtook it) has nothing to give back. Throws the limit's error, or the interruption's
 * when another run had already closed the call.
 */
export async function startCall(
  db: Kysely<Database>,
  tier: Tier,
  keyId: string,
  callId: string,
  spend: bigint,
  now = new Date(),
): Promise<Reservation> {
  const { reservation, writes } = reserveWrites(tier, keyId, spend, now);
  const running = statusChange(callId, 'paying', 'running', {
    when: sql<boolean>`exists (select from month)`,
    data: runningData(reservation),
  });
  const { rows } = await sql<Reserved & { started: boolean }>`
    with ${writes}, ${running}
    select ${reservedColumns}, exists (select from changed) as started`.execute(db);
  const counted = rows[0]!;
  await throwUnlessReserved(db, tier, reservation, counted, now);
  if (!counted.started) {
    await releaseCall(db, reservation);
    throw interruptedError(callId);
  }
  return reservation;
}

/** Whether the day's call and the month's spend were reserved, as `reservedColumns` selects them. */
export interface Reserved {
  day: boolean;
  month: boolean;
}

/** Selects `Reserved` from a statement holding `reserveWrites`. */
export const reservedColumns = sql`exists (select from day) as day, exists (select from month) as month`;

/** The running event keeps what was reserved, for recovery to give back if the call ends unpaid. */
export const runningData = (reservation: Reservation) => ({
  reservation: { day: reservation.day, month: reservation.month, spend: reservation.spend.toString() },
});

/**
 * The reservation of a call as the CTEs `day` and `month` of one statement: count the call into
 * the day's row only while under the limit and, only if that worked, add the spend to the month's
 * row only while under the cap (each row inserted if missing). `month` holds a row only if both
 * worked. No limit (paid tiers) is the integer column's maximum, a condition that always holds.
 */
export function reserveWrites(
  tier: Tier,
  keyId: string,
  spend: bigint,
  now: Date,
): { reservation: Reservation; writes: RawBuilder<unknown> } {
  const cap = tier.monthlySpendCap?.toString() ?? null;
  const reservation = { keyId, day: dayPeriod(now), month: monthPeriod(now), spend };
  const writes = sql`
    day as (
      insert into key_usage_period (api_key_id, period, calls) values (${keyId}, ${reservation.day}, 1)
      on conflict (api_key_id, period) do update set calls = key_usage_period.calls + 1
        where key_usage_period.calls < ${tier.includedCallsPerDay ?? 2_147_483_647}
      returning calls),
    month as (
      insert into key_usage_period (api_key_id, period, spend)
      select ${keyId}, ${reservation.month}, ${spend.toString()}::int8
      where exists (select from day) and (${cap}::int8 is null or ${spend.toString()}::int8 <= ${cap}::int8)
      on conflict (api_key_id, period) do update set spend = key_usage_period.spend + excluded.spend
        where ${cap}::int8 is null or key_usage_period.spend + excluded.spend <= ${cap}::int8
      returning spend)`;
  return { reservation, writes };
}

/** Throws the limit a reservation ran into (giving back the day's call if only the cap refused it). */
export async function throwUnlessReserved(
  db: Kysely<Database>,
  tier: Tier,
  reservation: Reservation,
  counted: Reserved,
  now: Date,
): Promise<void> {
  if (!counted.day) {
    const tomorrow = new Date(`${now.toISOString().slice(0, 10)}T00:00:00Z`);
    tomorrow.setUTCDate(tomorrow.getUTCDate() + 1);
    throw new AppError(
      'quota_exceeded',
      `Your tier includes ${tier.includedCallsPerDay} calls per day; the quota resets at midnight UTC.`,
      { details: { included_calls_per_day: tier.includedCallsPerDay, resets_at: tomorrow.toISOString() } },
    );
  }
  if (!counted.month) {
    await releaseCall(db, { ...reservation, spend: 0n });
    throw overCap(tier.monthlySpendCap);
  }
}

const overCap = (cap: bigint | null) =>
  new AppError('spend_cap_exceeded', 'This call would pass your monthly spend cap.', {
    details: { monthly_spend_cap: cap?.toString() },
  });

/** What a call reserved when it started, as its `running` event keeps it; undefined if it never started. */
export async function reservationOf(
  db: Kysely<Database>,
  call: { id: string; api_key_id: string },
): Promise<Reservation | undefined> {
  const started = await db
    .selectFrom('call_event')
    .select('data')
    .where('call_id', '=', call.id)
    .where('status', '=', 'running')
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  const reserved = started?.data?.reservation as { day: string; month: string; spend: string } | undefined;
  if (!reserved) return undefined;
  return { keyId: call.api_key_id, day: reserved.day, month: reserved.month, spend: BigInt(reserved.spend) };
}

/**
 * Giving back a reservation (a call that did not happen, or is not billed) as CTEs of one
 * statement: written with the call's own change, so it is given back exactly when the call closes.
 * `keepCall`: the day's call stays counted (it happened), only the spend goes back. `when`: written
 * only if it holds (e.g. `exists (select from changed)`, the close landed).
 */
export function releaseWrites(
  reservation: Reservation | undefined,
  options: { keepCall?: boolean; when?: RawBuilder<boolean> } = {},
): RawBuilder<unknown>[] {
  if (!reservation) return [];
  const when = options.when ? sql`and ${options.when}` : sql``;
  const { keyId, day, month, spend } = reservation;
  return [
    ...(options.keepCall
      ? []
      : [
          sql`released_day as (update key_usage_period set calls = calls - 1
            where api_key_id = ${keyId} and period = ${day} ${when})`,
        ]),
    ...(spend > 0n
      ? [
          sql`released_month as (update key_usage_period set spend = spend - ${spend.toString()}::int8
            where api_key_id = ${keyId} and period = ${month} ${when})`,
        ]
      : []),
  ];
}

/**
 * Closes a started call that paid nothing, and gives back what it reserved, in one statement: only
 * the closer that wins gives it back, and never without the close. False when another run closed it.
 */
export async function closeStarted(
  db: Kysely<Database>,
  callId: string,
  error: AppError,
  reservation: Reservation | undefined,
): Promise<boolean> {
  const release = releaseWrites(reservation, { when: sql<boolean>`exists (select from changed)` });
  return writeCall(db, sql.join([unpaidClose(callId, 'running', error), ...release]));
}

/** Gives back a reservation on its own, where no call changes with it (see `releaseWrites`). */
export async function releaseCall(db: Kysely<Database>, reservation: Reservation): Promise<void> {
  const writes = releaseWrites(reservation);
  if (writes.length > 0) await sql`with ${sql.join(writes)} select 1`.execute(db);
}
