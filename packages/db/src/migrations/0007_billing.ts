import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // An account's side of Stripe: its customer and subscription, and whether unpaid invoices
  // suspend its keys. Created with the first key; Stripe ids arrive once billing is online.
  await db.schema
    .createTable('billing_account')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('app_user.id'))
    .addColumn('stripe_customer_id', 'text', (c) => c.unique())
    .addColumn('stripe_subscription_id', 'text')
    .addColumn('subscription_status', 'text')
    .addColumn('synced_tier', 'text')
    .addColumn('payment_status', 'text', (c) =>
      c.notNull().defaultTo('ok').check(sql`payment_status in ('ok', 'past_due')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // The outbox of usage for Stripe: one row per account and reporting window, summed in the calls'
  // own transactions while `open`, sealed once the window is over, then delivered as one meter
  // event whose identifier is derived from the row, so a resend can never count twice.
  await db.schema
    .createTable('meter_report')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('app_user.id'))
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('value', 'int8', (c) => c.notNull().defaultTo(0))
    .addColumn('calls', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('open').check(sql`status in ('open', 'pending', 'delivered')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_error', 'text')
    .addColumn('stripe_customer_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('delivered_at', 'timestamptz')
    .addUniqueConstraint('meter_report_window_unique', ['user_id', 'window_start'])
    .execute();
  await db.schema
    .createIndex('meter_report_due_idx')
    .on('meter_report')
    .columns(['status', 'next_attempt_at'])
    .execute();

  // Stripe's invoices, one per account and month, as the webhooks tell them.
  await db.schema
    .createTable('billing_period')
    .addColumn('user_id', 'text', (c) => c.notNull().references('app_user.id'))
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('stripe_invoice_id', 'text', (c) => c.notNull().unique())
    .addColumn('invoice_status', 'text', (c) => c.notNull())
    .addColumn('amount_due', 'int8', (c) => c.notNull().defaultTo(0))
    .addColumn('currency', 'text', (c) => c.notNull().defaultTo('usd'))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('billing_period_pk', ['user_id', 'period'])
    .execute();

  // Webhook events handled, by Stripe's event id: a redelivery is acknowledged and not applied again.
  await db.schema
    .createTable('stripe_event')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}
