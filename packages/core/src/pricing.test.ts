import { describe, expect, it } from 'vitest';
import { developerCost, formatUsd } from './pricing';

describe('developer cost', () => {
  it('adds the markup and rounds up to the micro-dollar', () => {
    expect(developerCost(1_000n, 5_000)).toEqual({ agent: 1_000n, markup: 500n, total: 1_500n });
    expect(developerCost(1n, 5_000)).toEqual({ agent: 1n, markup: 1n, total: 2n });
    expect(developerCost(3n, 3_333)).toEqual({ agent: 3n, markup: 1n, total: 4n });
    expect(developerCost(10_000n, 0)).toEqual({ agent: 10_000n, markup: 0n, total: 10_000n });
  });
  it('formats for people', () => {
    expect(formatUsd(1_500n)).toBe('$0.0015');
    expect(formatUsd(10_000_000n)).toBe('$10.00');
    expect(formatUsd(10_500_000n)).toBe('$10.50');
    expect(formatUsd(1_000n)).toBe('$0.001');
  });
});
