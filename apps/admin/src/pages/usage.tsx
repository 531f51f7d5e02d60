import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type Inputs, type Outputs, trpc } from '../api';
import { CallsChart } from '../chart';
import { dateTime, usd } from '../format';
import { Link } from '../router';
import {
  Choice,
  ConfirmButton,
  Field,
  Loaded,
  Page,
  PagedTable,
  Pager,
  Status,
  Table,
  usePaged,
} from '../ui';

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

export function UsagePage() {
  const [range, setRange] = useState({ from: day(-29), to: day(0) });
  const daily = useQuery({
    queryKey: ['admin.usage.byDay', range],
    queryFn: () => trpc.admin.usage.byDay.query(range),
    placeholderData: keepPreviousData,
  });
  return (
    <Page title="Usage and billing">
      <fieldset className="filters">
        <legend className="visually-hidden">Days</legend>
        <Field label="From (UTC)">
          {(id) => (
            <input
              id={id}
              type="date"
              value={range.from}
              max={range.to}
              onChange={(e) => setRange({ ...range, from: e.target.value })}
            />
          )}
        </Field>
        <Field label="To (UTC)">
          {(id) => (
            <input
              id={id}
              type="date"
              value={range.to}
              min={range.from}
              onChange={(e) => setRange({ ...range, to: e.target.value })}
            />
          )}
        </Field>
      </fieldset>
      <section className="card" aria-labelledby="daily-title">
        <h2 id="daily-title">Usage by day</h2>
        <Loaded query={daily}>
          {(d) => (
            <>
              <CallsChart points={d.items} label={(at) => at.slice(5, 10)} />
              <p>
                {d.items.reduce((s, p) => s + p.calls, 0)} calls,{' '}
                {usd(d.items.reduce((s, p) => s + p.revenue, 0))} billed,{' '}
                {usd(d.items.reduce((s, p) => s + p.agent_payouts, 0))} paid to agents.
              </p>
            </>
          )}
        </Loaded>
      </section>
      <div className="columns">
        <Breakdown key={`agent-${range.from}-${range.to}`} by="agent" range={range} />
        <Breakdown key={`customer-${range.from}-${range.to}`} by="customer" range={range} />
      </div>
      <BillingPeriods />
      <Outbox />
      <Reconciliation />
    </Page>
  );
}

function Breakdown({ by, range }: { by: 'agent' | 'customer'; range: { from: string; to: string } }) {
  const title = by === 'agent' ? 'By agent' : 'By customer';
  return (
    <section className="card" aria-label={`Usage ${title.toLowerCase()}`}>
      <h2>{title}</h2>
      <PagedTable
        name="admin.usage.breakdown"
        filter={{ by, ...range }}
        fetchPage={(input) => trpc.admin.usage.breakdown.query(input)}
        limit={10}
        empty="No calls in these days."
        rowKey={(r) => r.id}
        columns={[
          {
            header: by === 'agent' ? 'Agent' : 'Customer',
            cell: (r) => (by === 'customer' ? <Link to={`/customers/${r.id}`}>{r.label}</Link> : r.label),
          },
          { header: 'Calls', cell: (r) => r.calls },
          { header: 'Failed', cell: (r) => r.failed },
          { header: 'Revenue', cell: (r) => usd(r.revenue) },
          { header: 'Paid to agents', cell: (r) => usd(r.agent_payouts) },
        ]}
      />
    </section>
  );
}

function BillingPeriods() {
  const [period, setPeriod] = useState(day(0).slice(0, 7));
  return (
    <section className="card" aria-labelledby="periods-title">
      <header className="section-header">
        <h2 id="periods-title">Billing periods</h2>
        <Field label="Month">
          {(id) => (
            <input
              id={id}
              type="month"
              value={period}
              onChange={(e) => {
                if (e.target.value) setPeriod(e.target.value);
              }}
            />
          )}
        </Field>
      </header>
      <PagedTable
        key={period}
        name="admin.billing.periods"
        filter={{ period }}
        fetchPage={(input) => trpc.admin.billing.periods.query(input)}
        limit={10}
        empty="No paid calls in this month."
        rowKey={(p) => p.user_id}
        columns={[
          { header: 'Customer', cell: (p) => <Link to={`/customers/${p.user_id}`}>{p.email}</Link> },
          { header: 'Paid calls', cell: (p) => p.operations },
          { header: 'Billed', cell: (p) => usd(p.developer_cost) },
          { header: 'Recorded for Stripe', cell: (p) => usd(p.reported) },
          { header: 'Delivered', cell: (p) => usd(p.delivered) },
          {
            header: 'Invoice',
            cell: (p) => (p.invoice_status ? <Status value={p.invoice_status} /> : '—'),
          },
        ]}
      />
    </section>
  );
}

type OutboxState = Inputs['admin']['billing']['reports']['state'];

function Outbox() {
  const [state, setState] = useState<OutboxState>(undefined);
  return (
    <section className="card" aria-labelledby="outbox-title">
      <header className="section-header">
        <h2 id="outbox-title">Meter delivery to Stripe</h2>
        <Choice
          label="State"
          value={state}
          choices={['open', 'pending', 'failing', 'held', 'delivered'] as const}
          onChange={setState}
        />
      </header>
      <OutboxReports key={state ?? 'all'} state={state} />
    </section>
  );
}

/** The reports in one state, with the count in each. Key it by its state. */
function OutboxReports({ state }: { state: OutboxState }) {
  const { query, pager } = usePaged(
    'admin.billing.reports',
    { state },
    (input) => trpc.admin.billing.reports.query(input),
    10,
  );
  return (
    <Loaded query={query}>
      {(d) => (
        <>
          <p>
            {d.counts.open} open, {d.counts.pending} pending, <strong>{d.counts.failing} failing</strong>,{' '}
            <strong>{d.counts.held} held</strong>, {d.counts.delivered} delivered.
          </p>
          {d.items.length === 0 ? (
            <p className="empty">No reports in this state.</p>
          ) : (
            <Table
              rows={d.items}
              rowKey={(r) => r.id}
              columns={[
                { header: 'Window', cell: (r) => dateTime(r.window_start) },
                { header: 'Account', cell: (r) => <Link to={`/customers/${r.user_id}`}>{r.user_id}</Link> },
                { header: 'Calls', cell: (r) => r.calls },
                { header: 'Value', cell: (r) => usd(r.value) },
                { header: 'State', cell: (r) => <Status value={r.state} /> },
                { header: 'Attempts', cell: (r) => r.attempts },
                { header: 'Last error', cell: (r) => r.last_error ?? '—' },
                {
                  header: 'Actions',
                  cell: (r) => (r.state === 'held' ? <ResolveReport report={r} /> : null),
                },
              ]}
            />
          )}
          <Pager pager={pager} nextCursor={d.next_cursor} />
        </>
      )}
    </Loaded>
  );
}

type MeterReport = Outputs['admin']['billing']['reports']['items'][number];

/** A held report waits for an operator to look in Stripe: counted there, or sent again. */
function ResolveReport({ report }: { report: MeterReport }) {
  const queryClient = useQueryClient();
  const resolve = (outcome: 'counted' | 'not_counted') =>
    trpc.admin.billing.resolveReport
      .mutate({ id: report.id, outcome })
      .then(() => queryClient.invalidateQueries());
  const what = `the usage of ${report.user_id} for the window of ${dateTime(report.window_start)} (${usd(report.value)})`;
  return (
    <div className="row-actions">
      <ConfirmButton
        label="Stripe has it"
        title="Mark as counted by Stripe?"
        confirmLabel="Mark delivered"
        onConfirm={() => resolve('counted')}
      >
        <p>
          Only when the customer's meter usage in Stripe shows {what}, identifier <code>{report.id}</code>.
        </p>
      </ConfirmButton>
      <ConfirmButton
        label="Send again"
        title="Send to Stripe again?"
        confirmLabel="Send again"
        danger
        onConfirm={() => resolve('not_counted')}
      >
        <p>
          Only when Stripe does not have {what}: Stripe no longer recognises its identifier, so it counts
          whatever is sent.
        </p>
      </ConfirmButton>
    </div>
  );
}

/** Reads every wallet's balance on chain, so it runs when asked rather than with the page. */
function Reconciliation() {
  const [asked, setAsked] = useState(false);
  const report = useQuery({
    queryKey: ['admin.reconciliation'],
    queryFn: () => trpc.admin.reconciliation.get.query(),
    enabled: asked,
  });
  return (
    <section className="card" aria-labelledby="reconciliation-title">
      <header className="section-header">
        <h2 id="reconciliation-title">Reconciliation</h2>
        <button
          type="button"
          onClick={() => (asked ? report.refetch() : setAsked(true))}
          disabled={report.isFetching}
        >
          {report.isFetching ? 'Checking…' : 'Check ledger, chain and Stripe'}
        </button>
      </header>
      {!asked ? (
        <p className="muted">
          Every wallet's ledger balance against the chain, and this month's calls against the ledger and
          Stripe.
        </p>
      ) : null}
      {asked ? (
        <Loaded query={report}>
          {(r) => {
            const differences = r.differences.length + r.usage.differences.length;
            return (
              <>
                <p>
                  {differences === 0 ? 'Everything agrees: ' : <strong>{differences} differences: </strong>}
                  {r.checked_wallets} wallets, ledger against chain; {r.usage.accounts} accounts in{' '}
                  {r.usage.period}, calls against ledger against Stripe; {r.usage.undelivered_reports} reports
                  not delivered yet.
                </p>
                {r.differences.length > 0 ? (
                  <Table
                    caption="Ledger against chain"
                    rows={r.differences}
                    rowKey={(d) => `${d.wallet_id}-${d.asset}`}
                    columns={[
                      {
                        header: 'Wallet',
                        cell: (d) => (
                          <>
                            <code>{d.address}</code> ({d.kind})
                          </>
                        ),
                      },
                      { header: 'Asset', cell: (d) => d.asset },
                      { header: 'Ledger', cell: (d) => d.ledger },
                      { header: 'Chain', cell: (d) => d.chain },
                      { header: 'Difference', cell: (d) => d.difference },
                    ]}
                  />
                ) : null}
                {r.usage.differences.length > 0 ? (
                  <Table
                    caption="Usage"
                    rows={r.usage.differences}
                    rowKey={(d) => `${d.user_id}-${d.check}`}
                    columns={[
                      {
                        header: 'Account',
                        cell: (d) => <Link to={`/customers/${d.user_id}`}>{d.user_id}</Link>,
                      },
                      { header: 'Check', cell: (d) => d.check },
                      { header: 'Expected', cell: (d) => d.expected },
                      { header: 'Actual', cell: (d) => d.actual },
                    ]}
                  />
                ) : null}
              </>
            );
          }}
        </Loaded>
      ) : null}
    </section>
  );
}
