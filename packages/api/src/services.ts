import type { Database } from '@tdk/db';
import type { Kysely } from 'kysely';

/**
 * Everything the use cases act through, built once by the composition root. Adapters (chain,
 * marketplace, billing, limits) join here as their issues land.
 */
export interface Services {
  db: Kysely<Database>;
  /** Facts about this installation, shown by the info endpoint. */
  instance: { id: string; version: string; startedAt: Date; databaseKind: string };
}
