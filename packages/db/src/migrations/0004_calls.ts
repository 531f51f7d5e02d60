import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // An API key owns one dedicated wallet for life. Only SHA-256 hashes of secrets are stored; a roll
  // keeps the key (and its wallet) and swaps the secret, the previous one valid for a grace period.
  await db.schema
    .createTable('api_key')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('app_user.id'))
    .addColumn('wallet_id', 'text', (c) => c.notNull().unique().references('wallet.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull().check(sql`environment in ('test', 'live')`))
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('hint', 'text', (c) => c.notNull())
    .addColumn('previous_secret_hash', 'text', (c) => c.unique())
    .addColumn('previous_secret_expires_at', 'timestamptz')
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('active').check(sql`status in ('active', 'revoked')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('api_key_user_idx').on('api_key').columns(['user_id', 'created_at']).execute();

  // The local marketplace's registry, in Tetto's listing shape.
  await db.schema
    .createTable('agent')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('endpoint_url', 'text', (c) => c.notNull())
    .addColumn('price_base', 'int8', (c) => c.notNull().check(sql`price_base > 0`))
    .addColumn('token', 'text', (c) => c.notNull().defaultTo('USDC').check(sql`token in ('USDC')`))
    .addColumn('input_schema', 'jsonb', (c) => c.notNull())
    .addColumn('output_schema', 'jsonb', (c) => c.notNull())
    .addColumn('owner_wallet', 'text', (c) => c.notNull())
    .addColumn('fee_bps', 'integer', (c) =>
      c.notNull().defaultTo(1000).check(sql`fee_bps between 0 and 10000`),
    )
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('active').check(sql`status in ('active', 'disabled')`),
    )
    .addColumn('agent_type', 'text', (c) =>
      c.notNull().defaultTo('simple').check(sql`agent_type in ('simple', 'complex', 'coordinator')`),
    )
    .addColumn('timeout_ms', 'integer')
    .addColumn('example_inputs', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // One row per call: the usage record billing bills from, and the stored answer idempotent replays return.
  await db.schema
    .createTable('call')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('api_key_id', 'text', (c) => c.notNull().references('api_key.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('app_user.id'))
    .addColumn('agent_id', 'uuid', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('pending', 'succeeded', 'agent_failed', 'agent_timeout', 'not_paid')`),
    )
    .addColumn('idempotency_key', 'text')
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('agent_cost', 'int8', (c) => c.notNull().defaultTo(0))
    .addColumn('markup', 'int8', (c) => c.notNull().defaultTo(0))
    .addColumn('developer_cost', 'int8', (c) => c.notNull().defaultTo(0))
    .addColumn('network_fee', 'int8', (c) => c.notNull().defaultTo(0))
    .addColumn('tx_signature', 'text')
    .addColumn('receipt_id', 'text')
    .addColumn('latency_ms', 'integer')
    .addColumn('response_status', 'integer')
    .addColumn('response', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('call_idempotency_idx')
    .on('call')
    .columns(['api_key_id', 'idempotency_key'])
    .unique()
    .where(sql.ref('idempotency_key'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('call_key_created_idx')
    .on('call')
    .columns(['api_key_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('call_user_created_idx')
    .on('call')
    .columns(['user_id', 'created_at'])
    .execute();

  // Per key and period: calls counted and money reserved atomically, so concurrent calls can never
  // pass a daily quota or a monthly spend cap together.
  await db.schema
    .createTable('key_usage_period')
    .addColumn('api_key_id', 'text', (c) => c.notNull().references('api_key.id'))
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('calls', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('spend', 'int8', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('key_usage_period_pk', ['api_key_id', 'period'])
    .execute();
}
