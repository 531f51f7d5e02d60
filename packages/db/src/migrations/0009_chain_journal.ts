import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Every transaction TDK signs is written here before it is sent, with the movement it will be.
  // A process that dies between sending and booking leaves it `pending`; recovery asks the chain
  // and books it (landed), books its fee (landed and failed) or drops it (never landed).
  await db.schema
    .createTable('chain_intent')
    .addColumn('signature', 'text', (c) => c.primaryKey())
    .addColumn('movement_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('wallet_id', 'text', (c) => c.references('wallet.id'))
    .addColumn('call_id', 'text')
    /** The ledger account paying the network fee. */
    .addColumn('payer', 'text', (c) => c.notNull())
    /** SOL the transaction itself moves from the payer (a SOL transfer), beside its cost. */
    .addColumn('lamports_sent', 'int8', (c) => c.notNull().defaultTo(0))
    .addColumn('postings', 'jsonb', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('pending').check(sql`status in ('pending', 'booked', 'dropped')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('resolved_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('chain_intent_pending_idx')
    .on('chain_intent')
    .columns(['status', 'created_at'])
    .execute();
  await db.schema.createIndex('chain_intent_call_idx').on('chain_intent').column('call_id').execute();

  // One movement per chain transaction: a second booking of the same transaction fails loudly.
  await db.schema
    .createIndex('ledger_movement_signature_idx')
    .on('ledger_movement')
    .column('chain_signature')
    .unique()
    .where(sql.ref('chain_signature'), 'is not', null)
    .execute();

  // The embedded chain's landed transactions, saved with the accounts they wrote, so their status
  // survives a restart of the process (and recovery can tell landed from never sent).
  await db.schema
    .createTable('chain_transaction')
    .addColumn('signature', 'text', (c) => c.primaryKey())
    .addColumn('failed', 'boolean', (c) => c.notNull())
    .addColumn('lamports_spent', 'int8', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}
