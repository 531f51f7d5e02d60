import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import type { Measured } from './load';
import type { Sampled } from './sample';
import type { DatabaseKind } from './tdk';

export const repoRoot = new URL('../../', import.meta.url);
const docsFile = new URL('docs/benchmarks.md', repoRoot);

/** One autocannon scenario. */
export interface LoadRow {
  database: DatabaseKind;
  path: 'direct' | 'TDK';
  measured: Measured;
  /** TDK's p50 minus the direct p50 at the same connections (TDK rows only). */
  addedP50?: number;
}

export interface KeyRow {
  database: DatabaseKind;
  cache: 'cached' | 'uncached';
  sampled: Sampled;
}

export interface SdkRow {
  database: DatabaseKind;
  client: 'raw fetch' | 'SDK';
  sampled: Sampled;
  /** The SDK's p50 and mean minus raw fetch's at the same concurrency (SDK rows only). */
  added?: { p50: number; mean: number };
}

/** The command that reproduces this run, with a database password masked. */
export function command(): string {
  const env = ['BENCH_DATABASE_URL', 'BENCH_SECONDS', 'BENCH_PROFILE'].flatMap((name) => {
    const value = process.env[name];
    if (!value) return [];
    if (name !== 'BENCH_DATABASE_URL') return [`${name}=${value}`];
    const url = new URL(value);
    if (url.password) url.password = '***';
    return [`${name}=${url}`];
  });
  return [...env, 'pnpm bench'].join(' ');
}

export function machine(): string {
  const cores = cpus();
  const memory = Math.round(totalmem() / 2 ** 30);
  return `${cores.length} cores (${cores[0]?.model.trim()}), ${memory} GiB, Node ${process.version}, ${platform()} ${release()}`;
}

/** The commit measured, and whether the work tree differed from it. */
export function revision(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
  return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain') ? ' with uncommitted changes' : ''}`;
}

const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
/** Milliseconds shown as microseconds. */
const us = (n: number) => (Number.isFinite(n) ? (n * 1000).toFixed(1) : '–');

/** A Markdown table: the first `labels` columns are text, the others numbers (right-aligned). */
function table(headers: string[], labels: number, rows: Array<Array<string | number>>): string {
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map((_, i) => (i < labels ? '---' : '--:')).join('|')}|`,
    ...rows.map((cells) => `| ${cells.join(' | ')} |`),
  ].join('\n');
}

export function loadTable(rows: LoadRow[]): string {
  return table(
    [
      'database',
      'path',
      'connections',
      'req/s (2xx)',
      'p50 ms',
      'p99 ms',
      'mean ms',
      'non-2xx',
      'errors',
      'added p50 ms',
    ],
    2,
    rows.map(({ database, path, measured: m, addedP50 }) => [
      database,
      path,
      m.connections,
      Math.round(m.requestsPerSecond),
      m.p50,
      m.p99,
      ms(m.mean),
      m.non2xx,
      m.errors,
      addedP50 ?? '',
    ]),
  );
}

export function keyTable(rows: KeyRow[]): string {
  return table(
    ['database', 'cache', 'verifications', 'mean µs', 'p50 µs', 'p99 µs'],
    2,
    rows.map(({ database, cache, sampled: s }) => [
      database,
      cache,
      s.count,
      us(s.mean),
      us(s.p50),
      us(s.p99),
    ]),
  );
}

export function sdkTable(rows: SdkRow[]): string {
  return table(
    [
      'database',
      'client',
      'concurrency',
      'calls/s',
      'p50 ms',
      'p99 ms',
      'mean ms',
      'added p50 ms',
      'added mean ms',
    ],
    2,
    rows.map(({ database, client, sampled: s, added }) => [
      database,
      client,
      s.concurrency,
      s.perSecond.toFixed(1),
      ms(s.p50),
      ms(s.p99),
      ms(s.mean),
      added ? ms(added.p50) : '',
      added ? ms(added.mean) : '',
    ]),
  );
}

/** Replaces the block between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` in docs/benchmarks.md. */
export function updateDocs(name: 'results' | 'profile', markdown: string): void {
  const text = readFileSync(docsFile, 'utf8');
  const block = new RegExp(`(<!-- bench:${name} -->\\n)[\\s\\S]*?(<!-- /bench:${name} -->)`);
  if (!block.test(text)) throw new Error(`docs/benchmarks.md has no <!-- bench:${name} --> block`);
  writeFileSync(
    docsFile,
    text.replace(block, (_all, open, close) => `${open}${markdown}\n${close}`),
  );
}
