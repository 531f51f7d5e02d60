import { ledgerAccount } from '@tdk/core';
import { sql } from 'kysely';
import type { Services } from '../services';

export interface UsageDifference {
  user_id: string;
  /** `YYYY-MM`, UTC. */
  period: string;
  /**
   * - `calls_vs_ledger`: paid calls against agent payments in the ledger (count and amount);
   * - `usage_vs_reports`: billable usage against what was recorded for Stripe;
   * - `reports_vs_stripe`: what was delivered against what Stripe has summed.
   */
  check: 'calls_vs_ledger' | 'usage_vs_reports' | 'reports_vs_stripe';
  expected: string;
  actual: string;
}

export interface UsageReconciliation {
  period: string;
  accounts: number;
  differences: UsageDifference[];
  /** Reports not yet accepted by Stripe (open, waiting or failing): not a difference, but not billed yet. */
  undelivered_reports: number;
}

/**
 * Per account, for one month: paid calls = agent payments in the ledger (the ledger itself is held
 * to the chain by the balance reconciliation), billable usage = usage recorded for Stripe, and,
 * when billing is online, what was delivered = what Stripe has summed.
 */
export async function reconcileUsage(services: Services, period: string): Promise<UsageReconciliation> {
  const start = new Date(`${period}-01T00:00:00Z`);
  const end = new Date(start);
  end.setUTCMonth(end.getUTCMonth() + 1);
  const { db } = services;

  const calls = await db
    .selectFrom('call')
    .select([
      'user_id',
      sql<string>`count(*)::text`.as('paid'),
      sql<string>`coalesce(sum(agent_cost), 0)::text`.as('agent_cost'),
    ])
    .where('receipt_id', 'is not', null)
    .where('created_at', '>=', start)
    .where('created_at', '<', end)
    .groupBy('user_id')
    .execute();
  // Usage is reported in the window a call is recorded in: by when it finished, not when it started
  // (a call made just before midnight UTC on the last of the month is billed in the next month).
  const billed = await db
    .selectFrom('call')
    .select(['user_id', sql<string>`coalesce(sum(developer_cost), 0)::text`.as('developer_cost')])
    .where('receipt_id', 'is not', null)
    .where('finished_at', '>=', start)
    .where('finished_at', '<', end)
    .groupBy('user_id')
    .execute();
  // What left each account's wallets to pay agents, from the ledger's side.
  const payments = await db
    .selectFrom('ledger_movement')
    .innerJoin('wallet', 'wallet.id', 'ledger_movement.wallet_id')
    .innerJoin('ledger_posting', 'ledger_posting.movement_id', 'ledger_movement.id')
    .select([
      'wallet.owner_user_id as user_id',
      sql<string>`count(distinct ledger_movement.id)::text`.as('movements'),
      sql<string>`coalesce(-sum(ledger_posting.amount), 0)::text`.as('paid_out'),
    ])
    .where('ledger_movement.kind', '=', 'agent_payment')
    .where('ledger_posting.asset', '=', 'usdc')
    .where(sql<boolean>`ledger_posting.account = ${ledgerAccount.wallet('')} || wallet.id`)
    .where(
      sql<boolean>`(ledger_movement.details->>'call_id') in (select id from call where created_at >= ${start} and created_at < ${end})`,
    )
    .groupBy('wallet.owner_user_id')
    .execute();
  const reports = await db
    .selectFrom('meter_report')
    .select([
      'user_id',
      sql<string>`coalesce(sum(value), 0)::text`.as('recorded'),
      sql<string>`coalesce(sum(value) filter (where status = 'delivered'), 0)::text`.as('delivered'),
      sql<string>`count(*) filter (where status <> 'delivered')::text`.as('undelivered'),
      sql<string | null>`max(stripe_customer_id)`.as('customer'),
    ])
    .where('window_start', '>=', start)
    .where('window_start', '<', end)
    .groupBy('user_id')
    .execute();

  const users = new Set([...calls, ...billed, ...payments, ...reports].map((r) => r.user_id ?? ''));
  users.delete('');
  const differences: UsageDifference[] = [];
  const compare = (userId: string, check: UsageDifference['check'], expected: string, actual: string) => {
    if (expected !== actual) differences.push({ user_id: userId, period, check, expected, actual });
  };
  let undelivered = 0;
  for (const userId of users) {
    const used = calls.find((c) => c.user_id === userId);
    const paid = payments.find((p) => p.user_id === userId);
    const report = reports.find((r) => r.user_id === userId);
    compare(
      userId,
      'calls_vs_ledger',
      `${used?.paid ?? '0'} calls, ${used?.agent_cost ?? '0'}`,
      `${paid?.movements ?? '0'} calls, ${paid?.paid_out ?? '0'}`,
    );
    const usage = billed.find((b) => b.user_id === userId);
    compare(userId, 'usage_vs_reports', usage?.developer_cost ?? '0', report?.recorded ?? '0');
    undelivered += Number(report?.undelivered ?? 0);
    if (services.billing.port && report?.customer) {
      const summed = await services.billing.port.usageTotal(report.customer, start, end);
      compare(userId, 'reports_vs_stripe', report.delivered, summed.toString());
    }
  }
  return { period, accounts: users.size, differences, undelivered_reports: undelivered };
}
