import { describe, expect, it } from 'vitest';
import { dateTime, percent, short, sol, usd } from './format';

describe('formatting', () => {
  it('shows USDC base units as dollars, keeping every significant digit', () => {
    expect(usd(1500)).toBe('$0.0015');
    expect(usd(10_000_000_000)).toBe('$10,000.00');
    expect(usd(-2_500_000)).toBe('-$2.50');
    expect(usd(0)).toBe('$0.00');
  });

  it('shows lamports as SOL', () => {
    expect(sol(50_000_000)).toBe('0.05 SOL');
    expect(sol(2_000_000_000)).toBe('2 SOL');
  });

  it('shows times in UTC, rates as percentages and long ids shortened', () => {
    expect(dateTime('2026-03-04T05:06:07.890Z')).toBe('2026-03-04 05:06:07 UTC');
    expect(dateTime(null)).toBe('—');
    expect(percent(0.0512)).toBe('5.1%');
    expect(percent(null)).toBe('—');
    expect(short('5VfYabcdefghijklmnopqrstuvwxyz')).toBe('5VfYab…wxyz');
  });
});
