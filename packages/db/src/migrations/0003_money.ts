import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Every keypair TDK holds: the treasury, dedicated wallets, and on the embedded chain the USDC mint
  // and its authority. The secret is sealed by the wallet vault; the row id and public key are bound
  // into the seal, so a sealed secret copied to another row does not open.
  await db.schema
    .createTable('wallet')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('treasury', 'dedicated', 'mint', 'mint_authority')`),
    )
    .addColumn('public_key', 'text', (c) => c.notNull().unique())
    .addColumn('sealed_secret', 'text', (c) => c.notNull())
    .addColumn('kek_version', 'integer', (c) => c.notNull())
    .addColumn('owner_user_id', 'text', (c) => c.references('app_user.id'))
    .addColumn('tier', 'text', (c) => c.check(sql`tier in ('free', 'paid', 'pro')`))
    .addColumn('funded_at', 'timestamptz')
    // Claims taken atomically before money moves from the treasury: at most one sender at a time.
    .addColumn('funding_claimed_at', 'timestamptz')
    .addColumn('top_up_claimed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // One treasury, one mint, one mint authority per installation.
  await sql`create unique index wallet_singletons on wallet (kind) where kind <> 'dedicated'`.execute(db);
  await db.schema.createIndex('wallet_owner_idx').on('wallet').column('owner_user_id').execute();

  // Double-entry ledger: a movement is one row here and postings that sum to zero per asset.
  await db.schema
    .createTable('ledger_movement')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('chain_signature', 'text')
    .addColumn('wallet_id', 'text', (c) => c.references('wallet.id'))
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('ledger_movement_wallet_idx')
    .on('ledger_movement')
    .columns(['wallet_id', 'created_at'])
    .execute();
  await db.schema
    .createTable('ledger_posting')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('movement_id', 'text', (c) => c.notNull().references('ledger_movement.id'))
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull().check(sql`asset in ('usdc', 'sol')`))
    .addColumn('amount', 'int8', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('ledger_posting_account_idx')
    .on('ledger_posting')
    .columns(['account', 'asset'])
    .execute();
  await db.schema
    .createIndex('ledger_posting_movement_idx')
    .on('ledger_posting')
    .column('movement_id')
    .execute();

  // The embedded chain's accounts, so LiteSVM's state survives a restart with the database.
  await db.schema
    .createTable('chain_account')
    .addColumn('address', 'text', (c) => c.primaryKey())
    .addColumn('lamports', 'int8', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('executable', 'boolean', (c) => c.notNull())
    .addColumn('data', 'bytea', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}
