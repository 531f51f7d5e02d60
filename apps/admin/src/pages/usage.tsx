import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { type Inputs, trpc } from '../api';
import { CallsChart } from '../chart';
import { dateTime, usd } from '../format';
import { Link } from '../router';
import { Choice, Field, Loaded, Page, Pager, Status, useCursor } from '../ui';

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
  const pager = useCursor();
  const input = { by, ...range, cursor: pager.cursor, limit: 10 };
  const rows = useQuery({
    queryKey: ['admin.usage.breakdown', input],
    queryFn: () => trpc.admin.usage.breakdown.query(input),
    placeholderData: keepPreviousData,
  });
  const title = by === 'agent' ? 'By agent' : 'By customer';
  return (
    <section className="card" aria-label={`Usage ${title.toLowerCase()}`}>
      <h2>{title}</h2>
      <Loaded query={rows} isEmpty={(d) => d.items.length === 0} empty="No calls in these days.">
        {(d) => (
          <>
            <table>
              <thead>
                <tr>
                  <th scope="col">{by === 'agent' ? 'Agent' : 'Customer'}</th>
                  <th scope="col">Calls</th>
                  <th scope="col">Failed</th>
                  <th scope="col">Revenue</th>
                  <th scope="col">Paid to agents</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((r) => (
                  <tr key={r.id}>
                    <td>{by === 'customer' ? <Link to={`/customers/${r.id}`}>{r.label}</Link> : r.label}</td>
                    <td>{r.calls}</td>
                    <td>{r.failed}</td>
                    <td>{usd(r.revenue)}</td>
                    <td>{usd(r.agent_payouts)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager pager={pager} nextCursor={d.next_cursor} />
          </>
        )}
      </Loaded>
    </section>
  );
}

function BillingPeriods() {
  const [period, setPeriod] = useState(day(0).slice(0, 7));
  const pager = useCursor();
  const input = { period, cursor: pager.cursor, limit: 10 };
  const periods = useQuery({
    queryKey: ['admin.billing.periods', input],
    queryFn: () => trpc.admin.billing.periods.query(input),
    placeholderData: keepPreviousData,
  });
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
                if (!e.target.value) return;
                setPeriod(e.target.value);
                pager.reset();
              }}
            />
          )}
        </Field>
      </header>
      <Loaded query={periods} isEmpty={(d) => d.items.length === 0} empty="No paid calls in this month.">
        {(d) => (
          <>
            <table>
              <thead>
                <tr>
                  <th scope="col">Customer</th>
                  <th scope="col">Paid calls</th>
                  <th scope="col">Billed</th>
                  <th scope="col">Recorded for Stripe</th>
                  <th scope="col">Delivered</th>
                  <th scope="col">Invoice</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((p) => (
                  <tr key={p.user_id}>
                    <td>
                      <Link to={`/customers/${p.user_id}`}>{p.email}</Link>
                    </td>
                    <td>{p.operations}</td>
                    <td>{usd(p.developer_cost)}</td>
                    <td>{usd(p.reported)}</td>
                    <td>{usd(p.delivered)}</td>
                    <td>{p.invoice_status ? <Status value={p.invoice_status} /> : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager pager={pager} nextCursor={d.next_cursor} />
          </>
        )}
      </Loaded>
    </section>
  );
}

type OutboxState = Inputs['admin']['billing']['reports']['state'];

function Outbox() {
  const [state, setState] = useState<OutboxState>(undefined);
  const pager = useCursor();
  const input = { state, cursor: pager.cursor, limit: 10 };
  const reports = useQuery({
    queryKey: ['admin.billing.reports', input],
    queryFn: () => trpc.admin.billing.reports.query(input),
    placeholderData: keepPreviousData,
  });
  return (
    <section className="card" aria-labelledby="outbox-title">
      <header className="section-header">
        <h2 id="outbox-title">Meter delivery to Stripe</h2>
        <Choice
          label="State"
          value={state}
          choices={['open', 'pending', 'failing', 'delivered'] as const}
          onChange={(next) => {
            setState(next);
            pager.reset();
          }}
        />
      </header>
      <Loaded query={reports}>
        {(d) => (
          <>
            <p>
              {d.counts.open} open, {d.counts.pending} pending, <strong>{d.counts.failing} failing</strong>,{' '}
              {d.counts.delivered} delivered.
            </p>
            {d.items.length === 0 ? (
              <p className="empty">No reports in this state.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Window</th>
                    <th scope="col">Account</th>
                    <th scope="col">Calls</th>
                    <th scope="col">Value</th>
                    <th scope="col">State</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Last error</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((r) => (
                    <tr key={r.id}>
                      <td>{dateTime(r.window_start)}</td>
                      <td>
                        <Link to={`/customers/${r.user_id}`}>{r.user_id}</Link>
                      </td>
                      <td>{r.calls}</td>
                      <td>{usd(r.value)}</td>
                      <td>
                        <Status value={r.state} />
                      </td>
                      <td>{r.attempts}</td>
                      <td>{r.last_error ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <Pager pager={pager} nextCursor={d.next_cursor} />
          </>
        )}
      </Loaded>
    </section>
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
                  <table>
                    <caption>Ledger against chain</caption>
                    <thead>
                      <tr>
                        <th scope="col">Wallet</th>
                        <th scope="col">Asset</th>
                        <th scope="col">Ledger</th>
                        <th scope="col">Chain</th>
                        <th scope="col">Difference</th>
                      </tr>
                    </thead>
                    <tbody>
                      {r.differences.map((d) => (
                        <tr key={`${d.wallet_id}-${d.asset}`}>
                          <td>
                            <code>{d.address}</code> ({d.kind})
                          </td>
                          <td>{d.asset}</td>
                          <td>{d.ledger}</td>
                          <td>{d.chain}</td>
                          <td>{d.difference}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : null}
                {r.usage.differences.length > 0 ? (
                  <table>
                    <caption>Usage</caption>
                    <thead>
                      <tr>
                        <th scope="col">Account</th>
                        <th scope="col">Check</th>
                        <th scope="col">Expected</th>
                        <th scope="col">Actual</th>
                      </tr>
                    </thead>
                    <tbody>
                      {r.usage.differences.map((d) => (
                        <tr key={`${d.user_id}-${d.check}`}>
                          <td>
                            <Link to={`/customers/${d.user_id}`}>{d.user_id}</Link>
                          </td>
                          <td>{d.check}</td>
                          <td>{d.expected}</td>
                          <td>{d.actual}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : null}
              </>
            );
          }}
        </Loaded>
      ) : null}
    </section>
  );
}
