import {
  DeleteQueryNode,
  InsertQueryNode,
  type KyselyPlugin,
  type OperationNode,
  type QueryId,
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

/** e.g. `update key_usage_period`; raw SQL is `raw`. */
function statementOf(node: RootOperationNode): string {
  const [verb, table] = InsertQueryNode.is(node)
    ? ['insert into', node.into]
    : UpdateQueryNode.is(node)
      ? ['update', node.table]
      : SelectQueryNode.is(node)
        ? ['select from', node.from?.froms[0]]
        : DeleteQueryNode.is(node)
          ? ['delete from', node.from.froms[0]]
          : ['raw', undefined];
  return table ? `${verb} ${tableName(table)}` : verb;
}

function tableName(node: OperationNode): string {
  return TableNode.is(node) ? node.table.identifier.name : node.kind;
}
