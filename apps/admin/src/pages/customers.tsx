import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { type Inputs, trpc } from '../api';
import { dateTime, usd } from '../format';
import { Link } from '../router';
import { Choice, ConfirmButton, ErrorNote, Field, Loaded, Page, Pager, Status, useCursor } from '../ui';
import { CallsTable } from './calls';
import { KeysTable } from './keys';

type Filter = Omit<Inputs['admin']['customers']['list'], 'cursor' | 'limit'>;

export function CustomersPage() {
  const [filter, setFilter] = useState<Filter>({ role: 'customer' });
  const [query, setQuery] = useState('');
  const pager = useCursor();
  const input = { ...filter, cursor: pager.cursor, limit: 25 };
  const customers = useQuery({
    queryKey: ['admin.customers.list', input],
    queryFn: () => trpc.admin.customers.list.query(input),
    placeholderData: keepPreviousData,
  });
  const change = (next: Filter) => {
    setFilter(next);
    pager.reset();
  };
  const search = (event: FormEvent) => {
    event.preventDefault();
    change({ ...filter, query: query.trim() || undefined });
  };
  return (
    <Page title="Customers">
      <search aria-label="Find customers">
        <form className="filters" onSubmit={search}>
          <Field label="Email or account id">
            {(id) => <input id={id} type="search" value={query} onChange={(e) => setQuery(e.target.value)} />}
          </Field>
          <Field label="Role">
            {(id) => (
              <select
                id={id}
                value={filter.role ?? ''}
                onChange={(e) => change({ ...filter, role: (e.target.value || undefined) as Filter['role'] })}
              >
                <option value="customer">Customers</option>
                <option value="admin">Admins</option>
                <option value="">Everyone</option>
              </select>
            )}
          </Field>
          <Choice
            label="Tier"
            value={filter.tier}
            choices={['free', 'paid', 'pro'] as const}
            onChange={(tier) => change({ ...filter, tier })}
          />
          <Choice
            label="Status"
            value={filter.status}
            choices={['active', 'suspended'] as const}
            onChange={(status) => change({ ...filter, status })}
          />
          <button type="submit" className="primary">
            Search
          </button>
        </form>
      </search>
      <Loaded query={customers} isEmpty={(d) => d.items.length === 0} empty="No account matches.">
        {(data) => (
          <>
            <table>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Tier</th>
                  <th scope="col">Status</th>
                  <th scope="col">Keys (active / all)</th>
                  <th scope="col">Calls this month</th>
                  <th scope="col">Spend this month</th>
                  <th scope="col">Payment</th>
                  <th scope="col">Signed up</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <Link to={`/customers/${c.id}`}>{c.email}</Link>
                      {c.role === 'admin' ? <span className="badge">admin</span> : null}
                    </td>
                    <td>{c.tier}</td>
                    <td>
                      <Status value={c.status} />
                    </td>
                    <td>
                      {c.keys.active} / {c.keys.total}
                    </td>
                    <td>{c.month.calls}</td>
                    <td>{usd(c.month.spend)}</td>
                    <td>
                      <Status value={c.payment_status} />
                    </td>
                    <td>{dateTime(c.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager pager={pager} nextCursor={data.next_cursor} />
          </>
        )}
      </Loaded>
    </Page>
  );
}

export function CustomerDetailPage({ id }: { id: string }) {
  const customer = useQuery({
    queryKey: ['admin.customers.get', id],
    queryFn: () => trpc.admin.customers.get.query({ id }),
  });
  return (
    <Page title="Customer">
      <p>
        <Link to="/customers">← All customers</Link>
      </p>
      <Loaded query={customer}>
        {(c) => (
          <>
            <section className="card" aria-labelledby="account-title">
              <h2 id="account-title">{c.email}</h2>
              <dl className="facts">
                <dt>Account</dt>
                <dd>
                  <code>{c.id}</code>
                </dd>
                <dt>Role</dt>
                <dd>{c.role}</dd>
                <dt>Status</dt>
                <dd>
                  <Status value={c.status} />
                </dd>
                <dt>Tier</dt>
                <dd>{c.tier}</dd>
                <dt>This month</dt>
                <dd>
                  {c.month.calls} calls, {usd(c.month.spend)}
                </dd>
                <dt>Payment</dt>
                <dd>
                  <Status value={c.payment_status} />
                </dd>
                <dt>Signed up</dt>
                <dd>{dateTime(c.created_at)}</dd>
              </dl>
              <AccountActions customer={c} />
            </section>
            <section aria-labelledby="keys-title">
              <h2 id="keys-title">Keys and wallets</h2>
              <KeysTable filter={{ user_id: c.id }} />
            </section>
            <section aria-labelledby="calls-title">
              <h2 id="calls-title">Recent calls</h2>
              <CallsTable filter={{ user_id: c.id }} />
            </section>
          </>
        )}
      </Loaded>
    </Page>
  );
}

function AccountActions({
  customer,
}: {
  customer: { id: string; email: string; tier: string; status: string };
}) {
  const queryClient = useQueryClient();
  const [tier, setTier] = useState(customer.tier);
  const update = useMutation({
    mutationFn: (change: Omit<Inputs['admin']['users']['update'], 'id'>) =>
      trpc.admin.users.update.mutate({ id: customer.id, ...change }),
    onSuccess: () => queryClient.invalidateQueries(),
  });
  const suspended = customer.status === 'suspended';
  return (
    <div className="actions">
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          update.mutate({ tier: tier as 'free' | 'paid' | 'pro' });
        }}
      >
        <Field label="Tier">
          {(id) => (
            <select id={id} value={tier} onChange={(e) => setTier(e.target.value)}>
              <option value="free">free</option>
              <option value="paid">paid</option>
              <option value="pro">pro</option>
            </select>
          )}
        </Field>
        <button type="submit" disabled={tier === customer.tier || update.isPending}>
          Change tier
        </button>
      </form>
      <ConfirmButton
        label={suspended ? 'Reinstate' : 'Suspend'}
        title={suspended ? `Reinstate ${customer.email}?` : `Suspend ${customer.email}?`}
        confirmLabel={suspended ? 'Reinstate' : 'Suspend'}
        danger={!suspended}
        onConfirm={() => update.mutateAsync({ status: suspended ? 'active' : 'suspended' })}
      >
        {suspended ? (
          <p>The account can sign in and its keys work again.</p>
        ) : (
          <p>The account is signed out everywhere and its keys stop working until it is reinstated.</p>
        )}
      </ConfirmButton>
      {update.isError ? <ErrorNote error={update.error} /> : null}
      {update.isSuccess ? <output>Saved.</output> : null}
    </div>
  );
}
