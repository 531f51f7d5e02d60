import { type FormEvent, useState } from 'react';
import { type Inputs, trpc } from '../api';
import { dateTime } from '../format';
import { Field, Page, PagedTable } from '../ui';

type AuditFilter = Omit<Inputs['admin']['audit']['list'], 'cursor' | 'limit'>;

/** `datetime-local` values are read as UTC, like every time the app shows. */
const utc = (local: string) => (local ? `${local}:00Z` : undefined);

export function AuditPage() {
  const [form, setForm] = useState({ actor_id: '', action: '', target_id: '', from: '', to: '' });
  const [filter, setFilter] = useState<AuditFilter>({});
  const set = (name: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [name]: e.target.value }));
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilter({
      actor_id: form.actor_id.trim() || undefined,
      action: form.action.trim() || undefined,
      target_id: form.target_id.trim() || undefined,
      from: utc(form.from),
      to: utc(form.to),
    });
  };
  return (
    <Page title="Audit log">
      <search aria-label="Filter the audit log">
        <form className="filters" onSubmit={apply}>
          <Field label="Actor (account id)">
            {(id) => <input id={id} value={form.actor_id} onChange={set('actor_id')} />}
          </Field>
          <Field label="Action" hint="exact, or a prefix ending in a dot: key.">
            {(id) => <input id={id} value={form.action} onChange={set('action')} />}
          </Field>
          <Field label="Target id">
            {(id) => <input id={id} value={form.target_id} onChange={set('target_id')} />}
          </Field>
          <Field label="From (UTC)">
            {(id) => <input id={id} type="datetime-local" value={form.from} onChange={set('from')} />}
          </Field>
          <Field label="To (UTC)">
            {(id) => <input id={id} type="datetime-local" value={form.to} onChange={set('to')} />}
          </Field>
          <button type="submit" className="primary">
            Filter
          </button>
        </form>
      </search>
      {/* A new filter starts again at the first page. */}
      <PagedTable
        key={JSON.stringify(filter)}
        name="admin.audit.list"
        filter={filter}
        fetchPage={(input) => trpc.admin.audit.list.query(input)}
        limit={50}
        empty="No entries match."
        className="audit"
        rowKey={(e) => e.id}
        columns={[
          { header: 'When', cell: (e) => dateTime(e.at) },
          { header: 'Actor', cell: (e) => (e.actor_id ? <code>{e.actor_id}</code> : e.actor_type) },
          { header: 'Action', cell: (e) => <code>{e.action}</code> },
          {
            header: 'Target',
            cell: (e) => (
              <>
                {e.target_type ? `${e.target_type} ` : ''}
                {e.target_id ? <code>{e.target_id}</code> : '—'}
              </>
            ),
          },
          { header: 'From', cell: (e) => e.ip ?? '—' },
          {
            header: 'Details',
            cell: (e) => (
              <code className="wrap">{Object.keys(e.details).length ? JSON.stringify(e.details) : ''}</code>
            ),
          },
        ]}
      />
    </Page>
  );
}
