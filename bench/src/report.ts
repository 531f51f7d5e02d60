import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import type { Measured } from './load';
import type { DatabaseKind } from './tdk';

export const repoRoot = new URL('../../', import.meta.url);
const docsFile = new URL('docs/benchmarks.md', repoRoot);

export interface Row {
  database: DatabaseKind;
  path: 'direct' | 'TDK';
  measured: Measured;
  /** TDK's p50 minus the direct p50 at the same connections (TDK rows only). */
  addedP50?: number;
}

/** The command that reproduces this run, with a database password masked. */
export function command(): string {
  const env = ['BENCH_DATABASE_URL', 'BENCH_SECONDS', 'BENCH_FULL', 'BENCH_PROFILE'].flatMap((name) => {
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

export function resultsTable(rows: Row[]): string {
  const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
  return [
    '| database | path | connections | req/s (2xx) | p50 ms | p99 ms | mean ms | non-2xx | errors | added p50 ms |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rows.map(
      ({ database, path, measured: m, addedP50 }) =>
        `| ${[
          database,
          path,
          m.connections,
          Math.round(m.requestsPerSecond),
          m.p50,
          m.p99,
          ms(m.mean),
          m.non2xx,
          m.errors,
          addedP50 === undefined ? '' : addedP50,
        ].join(' | ')} |`,
    ),
  ].join('\n');
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
