import {
  DeleteQueryNode,
  InsertQueryNode,
  type KyselyPlugin,
  type OperationNode,
  type QueryId,
  RawNode,
  type RootOperationNode,
  SelectQueryNode,
  TableNode,
  UpdateQueryNode,
} from 'kysely';

export interface QueryTiming {
  plugin: KyselyPlugin;
  /** Starts counting from zero. */
  reset(): void;
  /** Count and total milliseconds per statement kind and table, most time first. */
  totals(): Array<{ statement: string; count: number; ms: number }>;
}

/**
 * Times every statement TDK sends through Kysely, from the moment it is built to its result (on
 * PGlite that includes waiting for the one connection, so read it from a one-connection load).
 * Transaction BEGIN/COMMIT and libraries that use the driver directly are not seen.
 */
export function createQueryTiming(): QueryTiming {
  const started = new WeakMap<QueryId, { statement: string; at: number }>();
  const totals = new Map<string, { count: number; ms: number }>();
  return {
    plugin: {
      transformQuery({ node, queryId }) {
        started.set(queryId, { statement: statementOf(node), at: performance.now() });
        return node;
      },
      async transformResult({ result, queryId }) {
        const start = started.get(queryId);
        if (start) {
          const entry = totals.get(start.statement) ?? { count: 0, ms: 0 };
          entry.count += 1;
          entry.ms += performance.now() - start.at;
          totals.set(start.statement, entry);
        }
        return result;
      },
    },
    reset: () => totals.clear(),
    totals: () => [...totals].map(([statement, t]) => ({ statement, ...t })).sort((a, b) => b.ms - a.ms),
  };
}

/**
 * e.g. `update key_usage_period`; plain SQL by the writes it makes, in order (a statement with
 * data-modifying CTEs makes several), e.g. `update call + insert into call_event`.
 */
function statementOf(node: RootOperationNode): string {
  if (RawNode.is(node)) return rawStatementOf(rawText(node));
  const [verb, table] = InsertQueryNode.is(node)
    ? ['insert into', node.into]
    : UpdateQueryNode.is(node)
      ? ['update', node.table]
      : SelectQueryNode.is(node)
        ? ['select from', node.from?.froms[0]]
        : DeleteQueryNode.is(node)
          ? ['delete from', node.from.froms[0]]
          : ['other', undefined];
  return table ? `${verb} ${tableName(table)}` : verb;
}

/** The SQL of a plain statement, with the statements spliced into it (a CTE) and `?` for values. */
function rawText(node: RawNode): string {
  return node.sqlFragments
    .map((fragment, i) => {
      const parameter = node.parameters[i];
      return fragment + (parameter === undefined ? '' : RawNode.is(parameter) ? rawText(parameter) : '?');
    })
    .join('');
}

function rawStatementOf(text: string): string {
  // `on conflict … do update set` is not a write of its own.
  const writes = [...text.matchAll(/\b(insert into|update(?!\s+set\b)|delete from)\s+"?(\w+)/gi)].map(
    ([, verb, table]) => `${verb!.toLowerCase()} ${table}`,
  );
  if (writes.length > 0) return [...new Set(writes)].join(' + ');
  return text.trim().split(/\s+/).slice(0, 3).join(' ').toLowerCase();
}

function tableName(node: OperationNode): string {
  return TableNode.is(node) ? node.table.identifier.name : node.kind;
}
