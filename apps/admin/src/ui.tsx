import { keepPreviousData, type UseQueryResult, useQuery } from '@tanstack/react-query';
import { type ReactNode, useId, useRef, useState } from 'react';
import { errorInfo } from './api';

export function Page({
  title,
  actions,
  children,
}: {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section aria-labelledby="page-title">
      <header className="page-header">
        <h1 id="page-title">{title}</h1>
        {actions}
      </header>
      {children}
    </section>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  const info = errorInfo(error);
  return (
    <p role="alert" className="error">
      <strong>{info.message}</strong> <span className="muted">({info.code}</span>
      {info.requestId ? <span className="muted">, request {info.requestId}</span> : null}
      <span className="muted">)</span>
    </p>
  );
}

/** Loading, error and empty states of a query, so every page shows them the same way. */
export function Loaded<T>({
  query,
  isEmpty,
  empty,
  children,
}: {
  query: UseQueryResult<T>;
  isEmpty?: (data: T) => boolean;
  empty?: string;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending)
    return (
      <p className="muted" aria-busy="true">
        Loading…
      </p>
    );
  if (query.isError) return <ErrorNote error={query.error} />;
  if (isEmpty?.(query.data)) return <p className="empty">{empty ?? 'Nothing here yet.'}</p>;
  return <>{children(query.data)}</>;
}

/** Keyset pages: the cursors seen so far, so "Previous" goes back without the server keeping state. */
export function useCursor() {
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  return {
    cursor: cursors.at(-1),
    page: cursors.length,
    next: (cursor: string) => setCursors((c) => [...c, cursor]),
    previous: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
    reset: () => setCursors([undefined]),
  };
}

export function Pager({
  pager,
  nextCursor,
}: {
  pager: ReturnType<typeof useCursor>;
  nextCursor: string | null | undefined;
}) {
  if (pager.page === 1 && !nextCursor) return null;
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" onClick={pager.previous} disabled={pager.page === 1}>
        Previous
      </button>
      <span>Page {pager.page}</span>
      <button type="button" onClick={() => nextCursor && pager.next(nextCursor)} disabled={!nextCursor}>
        Next
      </button>
    </nav>
  );
}

export interface Column<Row> {
  header: ReactNode;
  cell: (row: Row) => ReactNode;
}

export interface TableProps<Row> {
  rows: Row[];
  /** `false` leaves a column out (e.g. one shown only on some pages). */
  columns: Array<Column<Row> | false>;
  rowKey: (row: Row) => string;
  caption?: string;
  className?: string;
}

/** Rows under column headers, the one table markup every page uses. */
export function Table<Row>({ rows, columns, rowKey, caption, className }: TableProps<Row>) {
  const shown = columns.filter((column): column is Column<Row> => column !== false);
  return (
    <table className={className}>
      {caption ? <caption>{caption}</caption> : null}
      <thead>
        <tr>
          {shown.map((column, i) => (
            <th scope="col" key={i}>
              {column.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)}>
            {shown.map((column, i) => (
              <td key={i}>{column.cell(row)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A list page of the server's: `next_cursor` leads to the next one. */
interface ListPage {
  next_cursor: string | null;
}

/**
 * One page at a time of a server list: the query for the page shown, and its pager. Key the
 * component by its filter, so a new filter starts again at the first page.
 */
export function usePaged<Filter extends object, Page extends ListPage>(
  name: string,
  filter: Filter,
  fetchPage: (input: Filter & { cursor: string | undefined; limit: number }) => Promise<Page>,
  limit = 25,
) {
  const pager = useCursor();
  const input = { ...filter, cursor: pager.cursor, limit };
  const query = useQuery({
    queryKey: [name, input],
    queryFn: () => fetchPage(input),
    placeholderData: keepPreviousData,
  });
  return { query, pager };
}

/** A server list as a table with a pager, and its loading, error and empty states. Key it by its filter. */
export function PagedTable<Filter extends object, Row>({
  name,
  filter,
  fetchPage,
  limit,
  empty,
  ...table
}: Omit<TableProps<Row>, 'rows'> & {
  /** The query's cache key, e.g. the procedure's path. */
  name: string;
  filter: Filter;
  fetchPage: (
    input: Filter & { cursor: string | undefined; limit: number },
  ) => Promise<ListPage & { items: Row[] }>;
  limit?: number;
  empty: string;
}) {
  const { query, pager } = usePaged(name, filter, fetchPage, limit);
  return (
    <Loaded query={query} isEmpty={(d) => d.items.length === 0} empty={empty}>
      {(page) => (
        <>
          <Table rows={page.items} {...table} />
          <Pager pager={pager} nextCursor={page.next_cursor} />
        </>
      )}
    </Loaded>
  );
}

export function Tile({
  label,
  value,
  detail,
  alert,
}: {
  label: string;
  value: ReactNode;
  detail?: ReactNode;
  alert?: boolean;
}) {
  return (
    <section className={alert ? 'tile tile-alert' : 'tile'} aria-label={label}>
      <div className="tile-label">{label}</div>
      <div className="tile-value">{value}</div>
      {detail ? <div className="tile-detail">{detail}</div> : null}
    </section>
  );
}

export function Status({ value }: { value: string }) {
  return <span className={`badge badge-${value}`}>{value}</span>;
}

export function Json({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

/** A labelled form control: the label is tied to the control for screen readers and clicks. */
export function Field({
  label,
  hint,
  children,
}: {
  label: string;
  hint?: string;
  children: (id: string) => ReactNode;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
      {hint ? <small className="muted">{hint}</small> : null}
    </div>
  );
}

/**
 * A filter's drop-down: "Any" (or `anyLabel`), which is `undefined`, then each choice. Choices are
 * values shown as they are, or `[value, label]` pairs.
 */
export function Choice<T extends string>({
  label,
  value,
  choices,
  onChange,
  anyLabel = 'Any',
}: {
  label: string;
  value: T | undefined;
  choices: ReadonlyArray<T | readonly [T, string]>;
  onChange: (value: T | undefined) => void;
  anyLabel?: string;
}) {
  return (
    <Field label={label}>
      {(id) => (
        <select
          id={id}
          value={value ?? ''}
          onChange={(e) => onChange((e.target.value || undefined) as T | undefined)}
        >
          <option value="">{anyLabel}</option>
          {choices.map((choice) => {
            const [v, text] = typeof choice === 'string' ? [choice, choice] : choice;
            return (
              <option key={v} value={v}>
                {text}
              </option>
            );
          })}
        </select>
      )}
    </Field>
  );
}

/**
 * A button that asks first, in a modal dialog (focus moves into it, Escape cancels), then runs the
 * action and shows its outcome or error.
 */
export function ConfirmButton({
  label,
  title,
  children,
  confirmLabel,
  danger,
  onConfirm,
  disabled,
}: {
  label: string;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => Promise<unknown>;
  disabled?: boolean;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const titleId = useId();
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      dialog.current?.close();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        className={danger ? 'danger' : undefined}
        disabled={disabled}
        onClick={() => {
          setError(null);
          dialog.current?.showModal();
        }}
      >
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={titleId}>
        <h2 id={titleId}>{title}</h2>
        <div>{children}</div>
        {error ? <ErrorNote error={error} /> : null}
        <div className="dialog-actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button type="button" className={danger ? 'danger' : 'primary'} onClick={confirm} disabled={busy}>
            {busy ? 'Working…' : confirmLabel}
          </button>
        </div>
      </dialog>
    </>
  );
}
