/**
 * Tiers and their limits: one table, defaults from the product spec, overridable by configuration
 * without code. Money is in base units: USDC micro-dollars (6 decimals) and SOL lamports.
 */
export const tierNames = ['free', 'paid', 'pro'] as const;
export type TierName = (typeof tierNames)[number];

export interface Tier {
  /** Paid calls per minute per API key. */
  callsPerMinute: number;
  /** Included calls per day per API key; null = unlimited. */
  includedCallsPerDay: number | null;
  /** Developer spend cap per month, micro-USD; null = none. */
  monthlySpendCap: bigint | null;
  /** What a new dedicated wallet receives from the treasury. */
  initialFunding: { usdc: bigint; lamports: bigint };
  /** When the wallet's USDC falls below `below`, the treasury refills it to `to`. */
  usdcTopUp: { below: bigint; to: bigint };
  /** The same for SOL, which pays network fees and the rent of new token accounts. */
  solTopUp: { below: bigint; to: bigint };
  /** Account and dashboard requests per minute per user. */
  accountRequestsPerMinute: number;
  /**
   * API keys an account may hold (not revoked), and create in a day: each new key's wallet is funded
   * from the treasury, so keys must not be free to mint.
   */
  maxActiveKeys: number;
  /** What the developer pays above the agent's price, in basis points (5000 = 50%). */
  markupBps: number;
}

/**
 * A key's limits: its tier's, with the owner's own monthly spend cap for the key when that is lower.
 */
export function keyTier(tier: Tier, keySpendCap: bigint | null): Tier {
  if (keySpendCap === null || (tier.monthlySpendCap !== null && tier.monthlySpendCap <= keySpendCap))
    return tier;
  return { ...tier, monthlySpendCap: keySpendCap };
}

const usd = (dollars: number) => BigInt(Math.round(dollars * 1_000_000));
const sol = (amount: number) => BigInt(Math.round(amount * 1_000_000_000));

export const defaultTiers: Record<TierName, Tier> = {
  free: {
    callsPerMinute: 100,
    includedCallsPerDay: 1_000,
    monthlySpendCap: usd(10),
    initialFunding: { usdc: usd(10), lamports: sol(0.01) },
    usdcTopUp: { below: usd(5), to: usd(10) },
    solTopUp: { below: sol(0.005), to: sol(0.01) },
    accountRequestsPerMinute: 10,
    maxActiveKeys: 5,
    markupBps: 5_000,
  },
  paid: {
    callsPerMinute: 1_000,
    includedCallsPerDay: null,
    monthlySpendCap: usd(1_000),
    initialFunding: { usdc: usd(50), lamports: sol(0.05) },
    usdcTopUp: { below: usd(5), to: usd(50) },
    solTopUp: { below: sol(0.01), to: sol(0.05) },
    accountRequestsPerMinute: 100,
    maxActiveKeys: 100,
    markupBps: 5_000,
  },
  pro: {
    callsPerMinute: 10_000,
    includedCallsPerDay: null,
    monthlySpendCap: null,
    initialFunding: { usdc: usd(200), lamports: sol(0.1) },
    usdcTopUp: { below: usd(20), to: usd(200) },
    solTopUp: { below: sol(0.02), to: sol(0.1) },
    accountRequestsPerMinute: 1_000,
    maxActiveKeys: 1_000,
    markupBps: 5_000,
  },
};

/** A partial override per tier, as configuration supplies it (amounts as integer strings or numbers). */
export type TierOverrides = Partial<Record<TierName, Partial<Tier>>>;

export function resolveTiers(overrides: TierOverrides = {}): Record<TierName, Tier> {
  return Object.fromEntries(
    tierNames.map((name) => [name, { ...defaultTiers[name], ...overrides[name] }]),
  ) as Record<TierName, Tier>;
}
