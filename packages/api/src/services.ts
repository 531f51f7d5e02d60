import type {
  AlertSink,
  BillingPort,
  Keyring,
  MarketplacePort,
  Signer,
  SolanaPort,
  Tier,
  TierName,
} from '@tdk/core';
import type { Database } from '@tdk/db';
import type { Kysely } from 'kysely';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { AuthLimits } from './auth/limits';
import type { CallLimits } from './calls/limits';
import type { ApiKeyVerifier } from './keys/verifier';

export interface LimiterOptions {
  /** Namespace of the counters, e.g. `login_email_ip`. */
  keyPrefix: string;
  points: number;
  /** Window in seconds. */
  duration: number;
  blockDuration?: number;
}

/** Builds a rate limiter on the configured store (memory, Postgres or Redis). */
export type LimiterFactory = (options: LimiterOptions) => RateLimiterAbstract;

export interface AuthSettings {
  /** Session lifetime; a session used in its second half is extended by a full lifetime. */
  sessionTtlMs: number;
  login: {
    /** Failed attempts (per email and IP) answered at full speed before delays start. */
    freeAttempts: number;
    /** Consecutive failures (per email and IP) that block that email from that IP. */
    maxConsecutiveFails: number;
    blockSeconds: number;
    /** First delay; each further failure doubles it, up to `maxDelayMs`. */
    delayBaseMs: number;
    maxDelayMs: number;
    /** Failures from one IP, any email, per day before the IP is blocked for a day. */
    ipFailsPerDay: number;
  };
  /** Sign-up attempts from one IP per hour: accounts (and their keys' funding) must not be free to mint. */
  signupsPerIpPerHour: number;
}

export interface BillingSettings {
  /** Stripe, or undefined while billing is offline (usage is kept pending until it is configured). */
  port: BillingPort | undefined;
  /** Usage is reported to Stripe once per account per window of this length. */
  reportIntervalMs: number;
}

export interface TreasurySettings {
  /** The USDC the treasury is meant to hold; under 20% of it raises the `treasury_low` alert. */
  floatUsdc: bigint;
}

/**
 * Everything the use cases act through, built once by the composition root. Adapters (chain,
 * marketplace, billing) join here as their issues land.
 */
export interface Services {
  db: Kysely<Database>;
  tiers: Record<TierName, Tier>;
  limiter: LimiterFactory;
  auth: AuthSettings;
  authLimits: AuthLimits;
  chain: SolanaPort;
  /** New ed25519 keypairs for wallets (from the chain adapter's library). */
  newKeypair: () => Signer;
  /** Seals and opens wallet secrets; see core's vault. */
  vault: Keyring;
  treasury: TreasurySettings;
  alerts: AlertSink;
  apiKeys: ApiKeyVerifier;
  marketplace: MarketplacePort;
  callLimits: CallLimits;
  billing: BillingSettings;
  /** The background job runner of this process: `wake` makes it look for work now. */
  jobs: { wake(): void };
  /** `test` keys on the embedded chain and devnet, `live` on mainnet. */
  keyEnvironment: 'test' | 'live';
  /** Facts about this installation, shown by the info endpoint. */
  instance: { id: string; version: string; startedAt: Date; databaseKind: string };
}
