import type { Migration } from 'kysely';
import * as m0001 from './0001_foundation';
import * as m0002 from './0002_accounts';
import * as m0003 from './0003_money';
import * as m0004 from './0004_calls';
import * as m0005 from './0005_rate_limits';
import * as m0006 from './0006_jobs';
import * as m0007 from './0007_billing';
import * as m0008 from './0008_call_lifecycle';
import * as m0009 from './0009_chain_journal';
import * as m0010 from './0010_call_event_counter';
import * as m0011 from './0011_statement_assert';
import * as m0012 from './0012_call_indexes';
import * as m0013 from './0013_tetto_store';
import * as m0014 from './0014_billing_event_order';
import * as m0015 from './0015_rate_limit_key_text';
import * as m0016 from './0016_subscription_event_order';
import * as m0018 from './0018_meter_report_unconfirmed';
import * as m0019 from './0019_key_spend_cap';
import * as m0020 from './0020_key_expiry';
import * as m0021 from './0021_meter_report_unconfirmed_backfill';

/**
 * Forward-only migrations, in order. Names never change once released; add a new file instead of
 * editing an old one. Bundled as modules (not read from disk) so the same set runs everywhere.
 */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_accounts': m0002,
  '0003_money': m0003,
  '0004_calls': m0004,
  '0005_rate_limits': m0005,
  '0006_jobs': m0006,
  '0007_billing': m0007,
  '0008_call_lifecycle': m0008,
  '0009_chain_journal': m0009,
  '0010_call_event_counter': m0010,
  '0011_statement_assert': m0011,
  '0012_call_indexes': m0012,
  '0013_tetto_store': m0013,
  '0014_billing_event_order': m0014,
  '0015_rate_limit_key_text': m0015,
  '0016_subscription_event_order': m0016,
  '0018_meter_report_unconfirmed': m0018,
  '0019_key_spend_cap': m0019,
  '0020_key_expiry': m0020,
  '0021_meter_report_unconfirmed_backfill': m0021,
};
