/**
 * What a developer pays for a call: the agent's price plus the tier's markup, rounded up to the unit
 * (a micro-dollar), so TDK never charges less than the markup it promises. Integers only.
 */
export function developerCost(
  agentCost: bigint,
  markupBps: number,
): { agent: bigint; markup: bigint; total: bigint } {
  if (agentCost < 0n) throw new RangeError('an agent price is never negative');
  const scaled = agentCost * BigInt(10_000 + markupBps);
  const total = (scaled + 9_999n) / 10_000n;
  return { agent: agentCost, markup: total - agentCost, total };
}

/** `$0.0015` from 1500 micro-dollars: for people, never for arithmetic. */
export function formatUsd(microDollars: bigint): string {
  const sign = microDollars < 0n ? '-' : '';
  const abs = microDollars < 0n ? -microDollars : microDollars;
  const whole = abs / 1_000_000n;
  const fraction = (abs % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `${sign}$${whole}${fraction ? `.${fraction.padEnd(2, '0')}` : '.00'}`;
}
