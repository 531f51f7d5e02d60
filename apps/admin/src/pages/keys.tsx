import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { type Inputs, type Outputs, trpc } from '../api';
import { dateTime, short, sol, usd } from '../format';
import { Link } from '../router';
import { Choice, ConfirmButton, Field, Page, PagedTable, Status } from '../ui';

type KeyFilter = Omit<Inputs['admin']['keys']['list'], 'cursor' | 'limit'>;
type AdminKey = Outputs['admin']['keys']['list']['items'][number];

export function KeysPage() {
  const [query, setQuery] = useState('');
  const [filter, setFilter] = useState<KeyFilter>({});
  const search = (event: FormEvent) => {
    event.preventDefault();
    setFilter({ ...filter, query: query.trim() || undefined });
  };
  return (
    <Page title="Keys and wallets">
      <search aria-label="Find keys">
        <form className="filters" onSubmit={search}>
          <Field label="Key id or wallet address">
            {(id) => <input id={id} type="search" value={query} onChange={(e) => setQuery(e.target.value)} />}
          </Field>
          <Choice
            label="Status"
            value={filter.status}
            choices={['active', 'expired', 'revoked'] as const}
            onChange={(status) => setFilter({ ...filter, status })}
          />
          <button type="submit" className="primary">
            Search
          </button>
        </form>
      </search>
      {/* A new filter starts again at the first page. */}
      <KeysTable key={JSON.stringify(filter)} filter={filter} showOwner />
    </Page>
  );
}

/** Keys with their wallets, balances and usage, and the admin's actions on each. Key it by its filter. */
export function KeysTable({ filter, showOwner }: { filter: KeyFilter; showOwner?: boolean }) {
  return (
    <PagedTable
      name="admin.keys.list"
      filter={filter}
      fetchPage={(input) => trpc.admin.keys.list.query(input)}
      empty="No keys."
      rowKey={(k) => k.id}
      columns={[
        {
          header: 'Key',
          cell: (k) => (
            <>
              {k.name}
              <br />
              <code title={k.id}>{k.hint}</code>
            </>
          ),
        },
        showOwner === true && {
          header: 'Owner',
          cell: (k) => <Link to={`/customers/${k.owner.id}`}>{k.owner.email}</Link>,
        },
        { header: 'Status', cell: (k) => <Status value={k.status} /> },
        { header: 'Wallet', cell: (k) => <code title={k.wallet.address}>{short(k.wallet.address)}</code> },
        { header: 'USDC', cell: (k) => usd(k.balances.usdc) },
        { header: 'SOL', cell: (k) => sol(k.balances.lamports) },
        { header: 'Calls today', cell: (k) => k.usage.today_calls },
        {
          header: 'Spend this month',
          cell: (k) =>
            k.monthly_spend_cap === null
              ? usd(k.usage.month_spend)
              : `${usd(k.usage.month_spend)} of ${usd(k.monthly_spend_cap)} (key cap)`,
        },
        { header: 'Last used', cell: (k) => dateTime(k.last_used_at) },
        { header: 'Actions', cell: (k) => <KeyActions apiKey={k} /> },
      ]}
    />
  );
}

const graceChoices = [
  { seconds: 0, label: 'at once' },
  { seconds: 3600, label: 'in an hour' },
  { seconds: 86_400, label: 'in a day' },
];

function KeyActions({ apiKey }: { apiKey: AdminKey }) {
  const queryClient = useQueryClient();
  const [grace, setGrace] = useState(0);
  const [topUp, setTopUp] = useState<Outputs['admin']['keys']['topUp'] | null>(null);
  const refresh = () => queryClient.invalidateQueries();
  const revoked = apiKey.status === 'revoked';
  const name = `${apiKey.name} (${apiKey.hint}) of ${apiKey.owner.email}`;
  return (
    <div className="row-actions">
      <ConfirmButton
        label="Revoke"
        title={`Revoke ${name}?`}
        confirmLabel="Revoke key"
        danger
        disabled={revoked}
        onConfirm={() => trpc.admin.keys.revoke.mutate({ id: apiKey.id }).then(refresh)}
      >
        <p>Calls with this key fail from now on, on every server within a second. This cannot be undone.</p>
      </ConfirmButton>
      <ConfirmButton
        label="Roll"
        title={`Roll ${name}?`}
        confirmLabel="Roll key"
        disabled={revoked}
        onConfirm={() => trpc.admin.keys.roll.mutate({ id: apiKey.id, grace_seconds: grace }).then(refresh)}
      >
        <p>
          The current secret stops working; the key and its wallet stay. The new secret is shown to nobody:
          the owner rolls the key again to get one.
        </p>
        <Field label="The current secret stops">
          {(id) => (
            <select id={id} value={grace} onChange={(e) => setGrace(Number(e.target.value))}>
              {graceChoices.map((c) => (
                <option key={c.seconds} value={c.seconds}>
                  {c.label}
                </option>
              ))}
            </select>
          )}
        </Field>
      </ConfirmButton>
      <ConfirmButton
        label="Top up"
        title={`Top up the wallet of ${name}?`}
        confirmLabel="Top up from the treasury"
        disabled={revoked}
        onConfirm={() =>
          trpc.admin.keys.topUp.mutate({ id: apiKey.id }).then((result) => {
            setTopUp(result);
            return refresh();
          })
        }
      >
        <p>
          Sends USDC and SOL from the treasury: the wallet's initial funding if it never got it, else a refill
          to its tier's level when it is under the tier's threshold.
        </p>
      </ConfirmButton>
      {topUp ? (
        <output className="muted">
          {topUp.kind === 'not_needed'
            ? 'No top-up needed: the wallet is above its threshold.'
            : `Sent ${usd(topUp.usdc)} and ${sol(topUp.lamports)}.`}
        </output>
      ) : null}
    </div>
  );
}
