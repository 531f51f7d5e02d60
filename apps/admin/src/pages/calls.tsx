import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { type Inputs, type Outputs, trpc } from '../api';
import { dateTime, short, sol, usd } from '../format';
import { Link } from '../router';
import { Choice, Json, Loaded, Page, PagedTable, Status } from '../ui';

type CallFilter = Omit<Inputs['admin']['calls']['list'], 'cursor' | 'limit'>;
type CallEvent = Outputs['admin']['calls']['get']['events'][number];

const statuses = ['queued', 'paying', 'running', 'succeeded', 'failed'] as const;
const finished = (status: string) => status === 'succeeded' || status === 'failed';

export function CallsPage() {
  const [filter, setFilter] = useState<CallFilter>({});
  const agents = useQuery({
    queryKey: ['admin.agents.list', 'all'],
    queryFn: () => trpc.admin.agents.list.query({ limit: 200 }),
  });
  return (
    <Page title="Calls">
      <search className="filters" aria-label="Filter calls">
        <Choice
          label="Status"
          value={filter.status}
          choices={statuses}
          onChange={(status) => setFilter({ ...filter, status })}
        />
        <Choice
          label="Agent"
          value={filter.agent_id}
          choices={agents.data?.items.map((a) => [a.id, a.name] as const) ?? []}
          onChange={(agent_id) => setFilter({ ...filter, agent_id })}
        />
      </search>
      <CallsTable key={JSON.stringify(filter)} filter={filter} />
    </Page>
  );
}

/** Recent calls, newest first; each links to its detail. Key it by its filter. */
export function CallsTable({ filter }: { filter: CallFilter }) {
  return (
    <PagedTable
      name="admin.calls.list"
      filter={filter}
      fetchPage={(input) => trpc.admin.calls.list.query(input)}
      empty="No calls."
      rowKey={(c) => c.id}
      columns={[
        { header: 'Call', cell: (c) => <Link to={`/calls/${c.id}`}>{short(c.id, 10)}</Link> },
        {
          header: 'Status',
          cell: (c) => (
            <>
              <Status value={c.status} /> {c.error_code ? <code>{c.error_code}</code> : null}
            </>
          ),
        },
        { header: 'Customer', cell: (c) => <Link to={`/customers/${c.user.id}`}>{c.user.email}</Link> },
        { header: 'Agent', cell: (c) => c.agent.name ?? short(c.agent.id) },
        { header: 'Cost', cell: (c) => usd(c.cost.total) },
        { header: 'Latency', cell: (c) => (c.latency_ms === null ? '—' : `${c.latency_ms} ms`) },
        {
          header: 'Transaction',
          cell: (c) => <code title={c.tx_signature ?? undefined}>{short(c.tx_signature)}</code>,
        },
        { header: 'Started', cell: (c) => dateTime(c.created_at) },
      ]}
    />
  );
}

/**
 * An open call's status changes as they happen (the `calls.events` subscription, resumed after the
 * last event seen); when it finishes, the detail is read again for its result.
 */
function useLiveEvents(id: string, status: string | undefined, known: CallEvent[]) {
  const queryClient = useQueryClient();
  const [live, setLive] = useState<CallEvent[]>([]);
  const lastSeq = known.at(-1)?.seq;
  useEffect(() => {
    if (!status || finished(status)) return;
    const subscription = trpc.calls.events.subscribe(
      { id, lastEventId: lastSeq === undefined ? null : String(lastSeq) },
      {
        onData: ({ data }) => {
          setLive((events) => [...events, { seq: data.seq, status: data.status, at: data.at }]);
          if (finished(data.status))
            void queryClient.invalidateQueries({ queryKey: ['admin.calls.get', id] });
        },
      },
    );
    return () => subscription.unsubscribe();
  }, [id, status, lastSeq, queryClient]);
  return [...known, ...live.filter((e) => e.seq > (lastSeq ?? 0))];
}

export function CallDetailPage({ id }: { id: string }) {
  const call = useQuery({
    queryKey: ['admin.calls.get', id],
    queryFn: () => trpc.admin.calls.get.query({ id }),
  });
  const events = useLiveEvents(id, call.data?.status, call.data?.events ?? []);
  const status = events.at(-1)?.status ?? call.data?.status;
  return (
    <Page title="Call">
      <p>
        <Link to="/calls">← All calls</Link>
      </p>
      <Loaded query={call}>
        {(c) => (
          <>
            <section className="card" aria-labelledby="receipt-title">
              <h2 id="receipt-title">
                Receipt <code>{c.id}</code>
              </h2>
              <dl className="facts">
                <dt>Status</dt>
                <dd aria-live="polite" data-testid="call-status">
                  <Status value={status ?? c.status} />
                  {status && !finished(status) ? <span className="muted"> live</span> : null}
                </dd>
                <dt>Customer</dt>
                <dd>
                  <Link to={`/customers/${c.user.id}`}>{c.user.email}</Link> (key <code>{c.api_key_id}</code>)
                </dd>
                <dt>Agent</dt>
                <dd>{c.agent.name ?? c.agent.id}</dd>
                <dt>Cost</dt>
                <dd>
                  {usd(c.cost.total)} billed = {usd(c.cost.agent)} agent + {usd(c.cost.markup)} markup;
                  network fee {sol(c.network_fee_lamports)}
                </dd>
                <dt>Transaction</dt>
                <dd>
                  <code className="wrap">{c.tx_signature ?? '—'}</code>
                </dd>
                <dt>Receipt id</dt>
                <dd>{c.receipt_id ? <code>{c.receipt_id}</code> : '—'}</dd>
                <dt>Latency</dt>
                <dd>{c.latency_ms === null ? '—' : `${c.latency_ms} ms`}</dd>
                <dt>Started / finished</dt>
                <dd>
                  {dateTime(c.created_at)} / {dateTime(c.finished_at)}
                </dd>
              </dl>
            </section>
            {c.error ? (
              <section className="card" aria-labelledby="error-title">
                <h2 id="error-title">Error</h2>
                <p>
                  <code>{c.error.code}</code> {c.error.message}
                </p>
                {c.error.details ? <Json value={c.error.details} /> : null}
              </section>
            ) : null}
            {c.result ? (
              <section className="card" aria-labelledby="output-title">
                <h2 id="output-title">Output</h2>
                <Json value={c.result.output} />
              </section>
            ) : null}
            {c.input !== null ? (
              <section className="card" aria-labelledby="input-title">
                <h2 id="input-title">Input</h2>
                <Json value={c.input} />
              </section>
            ) : null}
            <section className="card" aria-labelledby="events-title">
              <h2 id="events-title">Status changes</h2>
              <ol className="events">
                {events.map((e) => (
                  <li key={e.seq}>
                    <Status value={e.status} /> {dateTime(e.at)}
                    {e.error ? <span className="muted"> — {e.error.code}</span> : null}
                  </li>
                ))}
              </ol>
            </section>
          </>
        )}
      </Loaded>
    </Page>
  );
}
