import type { ColumnType, Generated } from 'kysely';

/** Timestamps are written by the database and read back as Date. */
export type CreatedAt = ColumnType<Date, never, never>;
export type UpdatedAt = ColumnType<Date, Date | undefined, Date>;

/** Instance-wide facts that must survive restarts (e.g. when this installation was first started). */
export interface InstanceSettingTable {
  key: string;
  value: ColumnType<unknown, string, string>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface UserTable {
  id: string;
  email: string;
  password_hash: string;
  role: ColumnType<'customer' | 'admin', 'customer' | 'admin' | undefined>;
  tier: ColumnType<'free' | 'paid' | 'pro', 'free' | 'paid' | 'pro' | undefined>;
  status: ColumnType<'active' | 'suspended', 'active' | 'suspended' | undefined>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SessionTable {
  /** SHA-256 (hex) of the session token; the token itself is never stored. */
  id: string;
  user_id: string;
  expires_at: Date;
  created_at: CreatedAt;
  ip: string | null;
  user_agent: string | null;
}

export interface AuditLogTable {
  id: string;
  at: CreatedAt;
  actor_type: 'user' | 'system' | 'anonymous';
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: ColumnType<Record<string, unknown>, string | undefined, never>;
}

/** int8 arrives as bigint (PGlite) or string (pg); write strings or bigints, read through `toBigInt`. */
export type Int8 = ColumnType<bigint | string | number, bigint | string, bigint | string>;

export type WalletKind = 'treasury' | 'dedicated' | 'mint' | 'mint_authority';

export interface WalletTable {
  id: string;
  kind: WalletKind;
  public_key: string;
  /** The vault's sealed form of the secret key; never leaves the server. */
  sealed_secret: string;
  kek_version: number;
  owner_user_id: string | null;
  tier: 'free' | 'paid' | 'pro' | null;
  funded_at: Date | null;
  funding_claimed_at: Date | null;
  top_up_claimed_at: Date | null;
  created_at: CreatedAt;
}

export interface LedgerMovementTable {
  id: string;
  kind: string;
  chain_signature: string | null;
  wallet_id: string | null;
  details: ColumnType<Record<string, unknown>, string | undefined, never>;
  created_at: CreatedAt;
}

export interface LedgerPostingTable {
  id: Generated<string>;
  movement_id: string;
  account: string;
  asset: 'usdc' | 'sol';
  amount: Int8;
}

export interface ChainAccountTable {
  address: string;
  lamports: Int8;
  owner: string;
  executable: boolean;
  data: Uint8Array;
  updated_at: UpdatedAt;
}

export interface ApiKeyTable {
  id: string;
  user_id: string;
  wallet_id: string;
  name: string;
  environment: 'test' | 'live';
  /** SHA-256 (hex) of the secret; the secret itself is shown once and never stored. */
  secret_hash: string;
  /** Prefix and last four characters, to recognise a key in lists. */
  hint: string;
  previous_secret_hash: string | null;
  previous_secret_expires_at: Date | null;
  status: ColumnType<'active' | 'revoked', 'active' | 'revoked' | undefined>;
  created_at: CreatedAt;
  last_used_at: Date | null;
  revoked_at: Date | null;
  /** The owner's own monthly spend cap for this key, micro-USD; null: the tier's alone. */
  monthly_spend_cap: ColumnType<bigint | string | number | null, number | null | undefined, number | null>;
  /** When the key stops working by itself; null: it lasts until revoked. */
  expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface AgentTable {
  id: string;
  name: string;
  description: string;
  endpoint_url: string;
  price_base: Int8;
  token: ColumnType<'USDC', 'USDC' | undefined>;
  input_schema: ColumnType<Record<string, unknown>, string, string>;
  output_schema: ColumnType<Record<string, unknown>, string, string>;
  owner_wallet: string;
  fee_bps: ColumnType<number, number | undefined>;
  status: ColumnType<'active' | 'disabled', 'active' | 'disabled' | undefined>;
  agent_type: ColumnType<
    'simple' | 'complex' | 'coordinator',
    'simple' | 'complex' | 'coordinator' | undefined
  >;
  timeout_ms: number | null;
  example_inputs: ColumnType<unknown[], string | undefined, string>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/** `queued` (async, waiting for a worker) → `paying` → `running` (payment sent, agent called) → done. */
export type CallStatus = 'queued' | 'paying' | 'running' | 'succeeded' | 'failed';

export interface CallTable {
  id: string;
  api_key_id: string;
  user_id: string;
  agent_id: string;
  status: CallStatus;
  idempotency_key: string | null;
  request_hash: string;
  agent_cost: ColumnType<bigint | string | number, bigint | string | undefined, bigint | string>;
  markup: ColumnType<bigint | string | number, bigint | string | undefined, bigint | string>;
  developer_cost: ColumnType<bigint | string | number, bigint | string | undefined, bigint | string>;
  network_fee: ColumnType<bigint | string | number, bigint | string | undefined, bigint | string>;
  tx_signature: string | null;
  receipt_id: string | null;
  latency_ms: number | null;
  response_status: number | null;
  response: ColumnType<unknown, string | null | undefined, string | null>;
  /** An async call's input, for the job that runs it. */
  input: ColumnType<unknown, string | null | undefined, string | null>;
  /** The seq of the call's latest event in `call_event`; the next event takes the next number. */
  last_event_seq: Generated<number>;
  created_at: CreatedAt;
  finished_at: Date | null;
}

/** One status change of a call, numbered from 1 per call. */
export interface CallEventTable {
  call_id: string;
  seq: number;
  status: CallStatus;
  at: CreatedAt;
  /** `{ error }` when the change carries one (a failure, or an outcome not known yet). */
  data: ColumnType<Record<string, unknown>, string | undefined, never>;
}

export interface KeyUsagePeriodTable {
  api_key_id: string;
  /** `day:YYYY-MM-DD` or `month:YYYY-MM`, UTC. */
  period: string;
  calls: ColumnType<number, number | undefined, number>;
  spend: ColumnType<bigint | string | number, bigint | string | undefined, bigint | string>;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** A background job (`@tdk/jobs`). `locked_*` name the worker holding a running job's lease. */
export interface JobTable {
  id: string;
  kind: string;
  payload: ColumnType<unknown, string | undefined, never>;
  status: ColumnType<JobStatus, JobStatus | undefined, JobStatus>;
  run_at: Generated<Date>;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  locked_by: string | null;
  locked_until: Date | null;
  /** The last failure's message, truncated; never a stack. */
  last_error: string | null;
  /** Unique among unfinished jobs only. */
  unique_key: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  finished_at: Date | null;
}

/** The latest slot each recurring job kind was enqueued for. */
export interface JobScheduleTable {
  kind: string;
  slot_start: Date;
}

export interface BillingAccountTable {
  user_id: string;
  stripe_customer_id: string | null;
  stripe_subscription_id: string | null;
  subscription_status: string | null;
  /** When Stripe created the event that set `subscription_status`: older events do not change it. */
  subscription_status_at: ColumnType<Date | null, Date | undefined, Date>;
  /** The tier last written to the Stripe customer. */
  synced_tier: string | null;
  /** `past_due` after a failed invoice payment: the account's keys are refused until it is paid. */
  payment_status: ColumnType<'ok' | 'past_due', 'ok' | 'past_due' | undefined>;
  /** When Stripe created the event that set `payment_status`: older events do not change it. */
  payment_status_at: ColumnType<Date | null, Date | undefined, Date>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type MeterReportStatus = 'open' | 'pending' | 'delivered' | 'held';

export interface MeterReportTable {
  id: string;
  user_id: string;
  window_start: Date;
  /** Developer cost in USDC base units (micro-dollars). */
  value: Int8;
  calls: ColumnType<number, number | undefined, number>;
  /** `held`: past Stripe's identifier window with a count Stripe's summaries could not settle; an operator decides. */
  status: ColumnType<MeterReportStatus, MeterReportStatus | undefined>;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: ColumnType<Date, Date | undefined, Date>;
  last_error: string | null;
  /** When the attempt in flight started; cleared when its outcome is recorded, so one left over means a crash. */
  sending_since: Date | null;
  /** When an attempt that Stripe may have counted was first sent; cleared once the report is settled. */
  unconfirmed_since: Date | null;
  stripe_customer_id: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  delivered_at: Date | null;
}

export interface BillingPeriodTable {
  user_id: string;
  /** `YYYY-MM` (UTC). */
  period: string;
  stripe_invoice_id: string;
  invoice_status: string;
  amount_due: Int8;
  currency: string;
  /** When Stripe created the event that set `invoice_status`: older events do not change it. */
  invoice_event_at: ColumnType<Date | null, Date | undefined, Date>;
  updated_at: UpdatedAt;
}

export interface StripeEventTable {
  id: string;
  type: string;
  received_at: CreatedAt;
}

/** A signed transaction and the movement it will be, written before it is sent. */
export interface ChainIntentTable {
  signature: string;
  movement_id: string;
  kind: string;
  wallet_id: string | null;
  call_id: string | null;
  payer: string;
  lamports_sent: Int8;
  /** `Posting[]` with amounts as strings. */
  postings: ColumnType<Array<{ account: string; asset: 'usdc' | 'sol'; amount: string }>, string, never>;
  details: ColumnType<Record<string, unknown>, string | undefined, never>;
  status: ColumnType<
    'pending' | 'booked' | 'dropped',
    'pending' | undefined,
    'pending' | 'booked' | 'dropped'
  >;
  created_at: CreatedAt;
  resolved_at: Date | null;
}

/** The embedded chain's landed transactions. */
export interface ChainTransactionTable {
  signature: string;
  failed: boolean;
  lamports_spent: Int8;
  created_at: CreatedAt;
}

/** A Tetto payment intent (`TettoIntent` as JSON) until it is used or expires. */
export interface TettoIntentTable {
  id: string;
  intent: ColumnType<unknown, string, never>;
  expires_at: Date;
}

/** A Tetto receipt, as the protocol serves it. */
export interface TettoReceiptTable {
  id: string;
  receipt: ColumnType<Record<string, unknown>, string, never>;
  created_at: CreatedAt;
}

export interface Database {
  instance_setting: InstanceSettingTable;
  app_user: UserTable;
  session: SessionTable;
  audit_log: AuditLogTable;
  wallet: WalletTable;
  ledger_movement: LedgerMovementTable;
  ledger_posting: LedgerPostingTable;
  chain_account: ChainAccountTable;
  api_key: ApiKeyTable;
  agent: AgentTable;
  call: CallTable;
  call_event: CallEventTable;
  key_usage_period: KeyUsagePeriodTable;
  job: JobTable;
  job_schedule: JobScheduleTable;
  billing_account: BillingAccountTable;
  meter_report: MeterReportTable;
  billing_period: BillingPeriodTable;
  stripe_event: StripeEventTable;
  chain_intent: ChainIntentTable;
  chain_transaction: ChainTransactionTable;
  tetto_intent: TettoIntentTable;
  tetto_receipt: TettoReceiptTable;
}
