import { AppError } from '@tdk/core';
import { toBigInt } from '@tdk/db';
import { sql } from 'kysely';
import { z } from 'zod';
import { recordAudit } from '../audit/record';
import { decodeCursor, toPage, ZPageInput } from '../pagination';
import { adminProcedure } from '../trpc';
import { ZPeriod } from './reconciliation';

const ZBillingPeriod = z
  .object({
    user_id: z.string(),
    email: z.string(),
    period: z.string().describe('`YYYY-MM`, UTC'),
    operations: z.number().int().describe('Paid calls in the period'),
    billable_calls: z.number().int(),
    agent_cost: z.number().int().describe('What agents were paid, USDC base units'),
    developer_cost: z.number().int().describe('What the account is billed, USDC base units'),
    reported: z.number().int().describe('Usage recorded for Stripe, USDC base units'),
    delivered: z.number().int().describe('Usage Stripe has accepted, USDC base units'),
    stripe_invoice_id: z.string().nullable(),
    invoice_status: z.string().nullable(),
    amount_due_cents: z.number().int().nullable(),
  })
  .meta({ id: 'BillingPeriod' });

/** Per account and month: operations, totals, what reached Stripe, and Stripe's invoice. */
export const listBillingPeriods = adminProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/admin/billing/periods',
      tags: ['admin'],
      summary: 'Billing periods per account (admin)',
    },
  })
  .input(
    z.object({
      period: ZPeriod.optional(),
      user_id: z.string().max(64).optional(),
      ...ZPageInput,
    }),
  )
  .output(z.object({ items: z.array(ZBillingPeriod), next_cursor: z.string().nullable() }))
  .query(async ({ ctx, input }) => {
    const period = input.period ?? new Date().toISOString().slice(0, 7);
    const start = new Date(`${period}-01T00:00:00Z`);
    const end = new Date(start);
    end.setUTCMonth(end.getUTCMonth() + 1);
    const { db } = ctx.services;
    const sumOf = (column: string) => sql<string>`coalesce(sum(${sql.ref(column)}), 0)::text`;
    let accounts = db
      .selectFrom('call')
      .innerJoin('app_user', 'app_user.id', 'call.user_id')
      .select([
        'call.user_id',
        'app_user.email',
        sql<string>`count(*)::text`.as('operations'),
        sql<string>`count(*) filter (where call.developer_cost > 0)::text`.as('billable_calls'),
        sumOf('call.agent_cost').as('agent_cost'),
        sumOf('call.developer_cost').as('developer_cost'),
      ])
      .where('call.tx_signature', 'is not', null)
      .where('call.created_at', '>=', start)
      .where('call.created_at', '<', end)
      .groupBy(['call.user_id', 'app_user.email']);
    if (input.user_id) accounts = accounts.where('call.user_id', '=', input.user_id);
    // Keyset over user ids; the cursor's time part is the period start, fixed for a page sequence.
    if (input.cursor) accounts = accounts.where('call.user_id', '>', decodeCursor(input.cursor).id);
    const rows = await accounts
      .orderBy('call.user_id')
      .limit(input.limit + 1)
      .execute();
    const page = toPage(rows, input.limit, (r) => ({ at: start, id: r.user_id }));
    const userIds = page.items.map((r) => r.user_id);
    const [reports, invoices] = userIds.length
      ? await Promise.all([
          db
            .selectFrom('meter_report')
            .select([
              'user_id',
              sumOf('value').as('reported'),
              sql<string>`coalesce(sum(value) filter (where status = 'delivered'), 0)::text`.as('delivered'),
            ])
            .where('user_id', 'in', userIds)
            .where('window_start', '>=', start)
            .where('window_start', '<', end)
            .groupBy('user_id')
            .execute(),
          db
            .selectFrom('billing_period')
            .selectAll()
            .where('user_id', 'in', userIds)
            .where('period', '=', period)
            .execute(),
        ])
      : [[], []];
    return {
      items: page.items.map((row) => {
        const report = reports.find((r) => r.user_id === row.user_id);
        const invoice = invoices.find((i) => i.user_id === row.user_id);
        return {
          user_id: row.user_id,
          email: row.email,
          period,
          operations: Number(row.operations),
          billable_calls: Number(row.billable_calls),
          agent_cost: Number(row.agent_cost),
          developer_cost: Number(row.developer_cost),
          reported: Number(report?.reported ?? 0),
          delivered: Number(report?.delivered ?? 0),
          stripe_invoice_id: invoice?.stripe_invoice_id ?? null,
          invoice_status: invoice?.invoice_status ?? null,
          amount_due_cents: invoice ? Number(toBigInt(invoice.amount_due)) : null,
        };
      }),
      next_cursor: page.next_cursor,
    };
  });

const reportStates = ['open', 'pending', 'failing', 'held', 'delivered'] as const;

const ZMeterReport = z
  .object({
    id: z.string().describe('Also the meter event identifier sent to Stripe'),
    user_id: z.string(),
    window_start: z.string(),
    value: z.number().int().describe('USDC base units (micro-dollars)'),
    calls: z.number().int(),
    state: z.enum(reportStates),
    attempts: z.number().int(),
    next_attempt_at: z.string(),
    last_error: z.string().nullable(),
    delivered_at: z.string().nullable(),
  })
  .meta({ id: 'MeterReport' });

/** The usage outbox: what is still open, waiting, failing (with the last error) and delivered. */
export const listMeterReports = adminProcedure
  .meta({
    openapi: {
      method: 'GET',
      path: '/tdk/admin/billing/reports',
      tags: ['admin'],
      summary: 'The usage outbox to Stripe (admin)',
      description:
        "`failing` reports are pending ones whose last attempt failed; `held` ones were sent more than a day ago with an unknown outcome that Stripe's sums could not settle, and wait for an operator (`POST /tdk/admin/billing/reports/{id}/resolve`); `counts` covers the whole outbox.",
    },
  })
  .input(z.object({ state: z.enum(reportStates).optional(), ...ZPageInput }))
  .output(
    z.object({
      counts: z.record(z.enum(reportStates), z.number().int()),
      items: z.array(ZMeterReport),
      next_cursor: z.string().nullable(),
    }),
  )
  .query(async ({ ctx, input }) => {
    const { db } = ctx.services;
    const stateOf = sql<
      (typeof reportStates)[number]
    >`case when status = 'pending' and last_error is not null then 'failing' else status end`;
    let q = db.selectFrom('meter_report').selectAll().select(stateOf.as('state'));
    if (input.state === 'failing') q = q.where('status', '=', 'pending').where('last_error', 'is not', null);
    else if (input.state === 'pending') q = q.where('status', '=', 'pending').where('last_error', 'is', null);
    else if (input.state) q = q.where('status', '=', input.state);
    if (input.cursor) {
      // Windows start on whole intervals: a millisecond Date holds them exactly.
      const c = decodeCursor(input.cursor);
      const at = new Date(c.at);
      q = q.where((eb) =>
        eb.or([eb('window_start', '<', at), eb.and([eb('window_start', '=', at), eb('id', '<', c.id)])]),
      );
    }
    const [rows, counted] = await Promise.all([
      q
        .orderBy('window_start', 'desc')
        .orderBy('id', 'desc')
        .limit(input.limit + 1)
        .execute(),
      db
        .selectFrom('meter_report')
        .select([stateOf.as('state'), sql<string>`count(*)::text`.as('count')])
        .groupBy(sql`1`)
        .execute(),
    ]);
    const page = toPage(rows, input.limit, (r) => ({ at: r.window_start, id: r.id }));
    const counts = Object.fromEntries(reportStates.map((s) => [s, 0])) as Record<
      (typeof reportStates)[number],
      number
    >;
    for (const row of counted) counts[row.state] = Number(row.count);
    return {
      counts,
      items: page.items.map((r) => ({
        id: r.id,
        user_id: r.user_id,
        window_start: r.window_start.toISOString(),
        value: Number(toBigInt(r.value)),
        calls: r.calls,
        state: r.state,
        attempts: r.attempts,
        next_attempt_at: r.next_attempt_at.toISOString(),
        last_error: r.last_error,
        delivered_at: r.delivered_at?.toISOString() ?? null,
      })),
      next_cursor: page.next_cursor,
    };
  });

/**
 * An operator's answer for a held report, after looking at the customer's meter usage in Stripe:
 * `counted` marks it delivered; `not_counted` sends it again (Stripe no longer knows its identifier,
 * so it is counted once more: only when Stripe does not have it).
 */
export const resolveHeldReport = adminProcedure
  .meta({
    openapi: {
      method: 'POST',
      path: '/tdk/admin/billing/reports/{id}/resolve',
      tags: ['admin'],
      summary: 'Resolve a held usage report (admin)',
      description: 'Audited. Only a `held` report can be resolved; any other answers 409 `conflict`.',
    },
  })
  .input(z.strictObject({ id: z.string().max(64), outcome: z.enum(['counted', 'not_counted']) }))
  .output(z.object({ id: z.string(), state: z.enum(['pending', 'delivered']) }))
  .mutation(({ ctx, input }) =>
    ctx.services.db.transaction().execute(async (trx) => {
      const report = await trx
        .selectFrom('meter_report')
        .select(['id', 'user_id', 'status', 'window_start', 'value'])
        .where('id', '=', input.id)
        .forUpdate()
        .executeTakeFirst();
      if (!report) throw new AppError('not_found', `No usage report ${input.id}.`);
      if (report.status !== 'held') {
        throw new AppError('conflict', `Usage report ${input.id} is ${report.status}, not held.`);
      }
      const counted = input.outcome === 'counted';
      await trx
        .updateTable('meter_report')
        .set({
          status: counted ? 'delivered' : 'pending',
          delivered_at: counted ? new Date() : null,
          // Whose meter Stripe counted it on, as delivery records it: reconciliation reads it.
          stripe_customer_id: counted
            ? sql`(select stripe_customer_id from billing_account where user_id = ${report.user_id})`
            : null,
          unconfirmed_since: null,
          last_error: null,
          next_attempt_at: new Date(),
          updated_at: new Date(),
        })
        .where('id', '=', report.id)
        .execute();
      await recordAudit(trx, ctx, {
        actor: { type: 'user', id: ctx.user.id },
        action: 'billing.report_resolved',
        target: { type: 'meter_report', id: report.id },
        details: {
          user_id: report.user_id,
          outcome: input.outcome,
          window_start: report.window_start.toISOString(),
          value: Number(toBigInt(report.value)),
        },
      });
      return { id: report.id, state: counted ? 'delivered' : 'pending' };
    }),
  );
