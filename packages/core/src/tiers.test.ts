import { describe, expect, it } from 'vitest';
import { defaultTiers, keyTier } from './tiers';

describe('keyTier', () => {
  const free = defaultTiers.free; // capped at $10 a month
  const pro = defaultTiers.pro; // no cap

  it("is the tier's own limits when the key has no cap, or one at or above the tier's", () => {
    expect(keyTier(free, null)).toBe(free);
    expect(keyTier(free, 10_000_000n)).toBe(free);
    expect(keyTier(free, 50_000_000n)).toBe(free);
    expect(keyTier(pro, null)).toBe(pro);
  });

  it("takes the key's cap when it is lower, or when the tier has none, and changes nothing else", () => {
    expect(keyTier(free, 2_000_000n)).toEqual({ ...free, monthlySpendCap: 2_000_000n });
    expect(keyTier(pro, 0n)).toEqual({ ...pro, monthlySpendCap: 0n });
    expect(free.monthlySpendCap).toBe(10_000_000n);
  });
});
