import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { type Inputs, type Outputs, trpc } from '../api';
import { dateTime, usd } from '../format';
import { Link } from '../router';
import { Choice, ConfirmButton, ErrorNote, Field, Loaded, Page, PagedTable, Status } from '../ui';
import { CallsTable } from './calls';
import { KeysTable } from './keys';

type Filter = Omit<Inputs['admin']['customers']['list'], 'cursor' | 'limit'>;

export function CustomersPage() {
  const [filter, setFilter] = useState<Filter>({ role: 'customer' });
  const [query, setQuery] = useState('');
  const search = (event: FormEvent) => {
    event.preventDefault();
    setFilter({ ...filter, query: query.trim() || undefined });
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
                onChange={(e) =>
                  setFilter({ ...filter, role: (e.target.value || undefined) as Filter['role'] })
                }
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
            onChange={(tier) => setFilter({ ...filter, tier })}
          />
          <Choice
            label="Status"
            value={filter.status}
            choices={['active', 'suspended'] as const}
            onChange={(status) => setFilter({ ...filter, status })}
          />
          <button type="submit" className="primary">
            Search
          </button>
        </form>
      </search>
      {/* A new filter starts again at the first page. */}
      <PagedTable
        key={JSON.stringify(filter)}
        name="admin.customers.list"
        filter={filter}
        fetchPage={(input) => trpc.admin.customers.list.query(input)}
        empty="No account matches."
        rowKey={(c) => c.id}
        columns={[
          {
            header: 'Email',
            cell: (c) => (
              <>
                <Link to={`/customers/${c.id}`}>{c.email}</Link>
                {c.role === 'admin' ? <span className="badge">admin</span> : null}
              </>
            ),
          },
          { header: 'Tier', cell: (c) => c.tier },
          { header: 'Status', cell: (c) => <Status value={c.status} /> },
          {
            header: 'Keys (active / all)',
            cell: (c) => (
              <>
                {c.keys.active} / {c.keys.total}
              </>
            ),
          },
          { header: 'Calls this month', cell: (c) => c.month.calls },
          { header: 'Spend this month', cell: (c) => usd(c.month.spend) },
          { header: 'Payment', cell: (c) => <Status value={c.payment_status} /> },
          { header: 'Subscription', cell: (c) => <SubscriptionStatus subscription={c.subscription} /> },
          { header: 'Signed up', cell: (c) => dateTime(c.created_at) },
        ]}
      />
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
                <dt>Subscription</dt>
                <dd>
                  <SubscriptionStatus subscription={c.subscription} />
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

type Subscription = Outputs['admin']['customers']['get']['subscription'];

/** Stripe's status of the account's subscription; none until its first key opens billing. */
function SubscriptionStatus({ subscription }: { subscription: Subscription }) {
  return subscription.status ? <Status value={subscription.status} /> : <span className="muted">none</span>;
}

function AccountActions({
  customer,
}: {
  customer: { id: string; email: string; tier: string; status: string; subscription: Subscription };
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
      {customer.subscription.ended ? (
        <ConfirmButton
          label="Resubscribe"
          title={`Subscribe ${customer.email} again?`}
          confirmLabel="Resubscribe"
          onConfirm={async () => {
            await trpc.admin.users.resubscribe.mutate({ id: customer.id });
            await queryClient.invalidateQueries();
          }}
        >
          <p>
            A new Stripe subscription to the metered price starts on the account's customer, and its keys can
            call agents again. Their usage is invoiced from now on.
          </p>
        </ConfirmButton>
      ) : null}
      {update.isError ? <ErrorNote error={update.error} /> : null}
      {update.isSuccess ? <output>Saved.</output> : null}
    </div>
  );
}
