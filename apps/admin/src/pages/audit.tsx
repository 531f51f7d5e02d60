import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { type Inputs, trpc } from '../api';
import { dateTime } from '../format';
import { Field, Loaded, Page, Pager, useCursor } from '../ui';

type AuditFilter = Omit<Inputs['admin']['audit']['list'], 'cursor' | 'limit'>;

/** `datetime-local` values are read as UTC, like every time the app shows. */
const utc = (local: string) => (local ? `${local}:00Z` : undefined);

export function AuditPage() {
  const [form, setForm] = useState({ actor_id: '', action: '', target_id: '', from: '', to: '' });
  const [filter, setFilter] = useState<AuditFilter>({});
  const pager = useCursor();
  const input = { ...filter, cursor: pager.cursor, limit: 50 };
  const entries = useQuery({
    queryKey: ['admin.audit.list', input],
    queryFn: () => trpc.admin.audit.list.query(input),
    placeholderData: keepPreviousData,
  });
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
    pager.reset();
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
      <Loaded query={entries} isEmpty={(d) => d.items.length === 0} empty="No entries match.">
        {(d) => (
          <>
            <table className="audit">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">From</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((e) => (
                  <tr key={e.id}>
                    <td>{dateTime(e.at)}</td>
                    <td>{e.actor_id ? <code>{e.actor_id}</code> : e.actor_type}</td>
                    <td>
                      <code>{e.action}</code>
                    </td>
                    <td>
                      {e.target_type ? `${e.target_type} ` : ''}
                      {e.target_id ? <code>{e.target_id}</code> : '—'}
                    </td>
                    <td>{e.ip ?? '—'}</td>
                    <td>
                      <code className="wrap">
                        {Object.keys(e.details).length ? JSON.stringify(e.details) : ''}
                      </code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager pager={pager} nextCursor={d.next_cursor} />
          </>
        )}
      </Loaded>
    </Page>
  );
}
