/** Amounts are integers in base units: USDC micro-dollars, SOL lamports. */
export function usd(micro: number): string {
  const sign = micro < 0 ? '-' : '';
  const abs = Math.abs(micro);
  const fraction = String(abs % 1_000_000)
    .padStart(6, '0')
    .replace(/0+$/, '')
    .padEnd(2, '0');
  return `${sign}$${Math.floor(abs / 1_000_000).toLocaleString('en-US')}.${fraction}`;
}

export function sol(lamports: number): string {
  const fraction = String(lamports % 1_000_000_000)
    .padStart(9, '0')
    .replace(/0+$/, '');
  return `${Math.floor(lamports / 1_000_000_000).toLocaleString('en-US')}${fraction ? `.${fraction}` : ''} SOL`;
}

/** Times in UTC, as the server counts days and months. */
export function dateTime(iso: string | null): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : '—';
}

export function percent(rate: number | null): string {
  return rate === null ? '—' : `${(rate * 100).toFixed(rate < 0.1 ? 1 : 0)}%`;
}

/** A long id or signature, recognisable: its start and end. */
export function short(value: string | null, keep = 6): string {
  if (!value) return '—';
  return value.length > keep * 2 + 1 ? `${value.slice(0, keep)}…${value.slice(-4)}` : value;
}
