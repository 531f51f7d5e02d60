import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KyselyPlugin } from 'kysely';
import { type CpuPerCall, cpuPerCall, cpuSnapshot } from './cpu';
import { measureKeyVerification } from './key-verification';
import { type Measured, measure, type Target } from './load';
import { profiled, summarise, summaryMarkdown } from './profile';
import { createQueryTiming, type QueryTiming } from './queries';
import {
  command,
  type KeyRow,
  keyTable,
  type LoadRow,
  loadTable,
  machine,
  revision,
  type SdkRow,
  sdkTable,
  updateDocs,
} from './report';
import type { Sampled } from './sample';
import { compareSdk } from './sdk';
import { type BenchTdk, type DatabaseKind, startBenchTdk } from './tdk';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
if (!(seconds > 0)) throw new Error(`BENCH_SECONDS must be a positive number of seconds (got ${seconds})`);
const connectionCounts = [1, 10, 50];
const sdkConcurrencies = [1, 10];
// A verification takes microseconds to a millisecond: two seconds give thousands of samples or more.
const keySeconds = Math.min(seconds, 2);
const databases: DatabaseKind[] = process.env.BENCH_DATABASE_URL
  ? ['pglite-memory', 'postgres']
  : ['pglite-memory'];
// The first seconds of load pay for JIT compilation and cold caches; no scenario should. Two seconds
// were not enough: the next 6 s of load still cost ~20% more CPU per call (V8 optimising) than later ones.
const warmUpSeconds = 5;
// Each operation timed in this process first runs unrecorded for this long.
const sampleWarmUpSeconds = 1;
const profileSeconds = 5;
const cores = availableParallelism();
const profileDir = new URL('../profiles/', import.meta.url);

const direct = (bench: BenchTdk): Target => ({
  url: bench.agentUrl,
  headers: { 'content-type': 'application/json' },
  body: bench.directBody,
});
const throughTdk = (bench: BenchTdk): Target => ({
  url: bench.callUrl,
  headers: bench.callHeaders,
  body: bench.callBody,
});

const progress = (database: DatabaseKind, path: string, m: Measured) =>
  console.log(
    `${database} ${path} c=${m.connections}: ${Math.round(m.requestsPerSecond)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, non-2xx ${m.non2xx}, errors ${m.errors}`,
  );

// autocannon stops without waiting for its requests: paid calls still in flight finish in this time.
const settle = () => sleep(1000);

async function withTdk(
  database: DatabaseKind,
  run: (bench: BenchTdk) => Promise<void>,
  plugin?: KyselyPlugin,
): Promise<void> {
  const bench = await startBenchTdk(database, plugin);
  try {
    await run(bench);
  } finally {
    await bench.stop();
  }
}

const progressSampled = (database: DatabaseKind, what: string, s: Sampled) =>
  console.log(
    `${database} ${what} c=${s.concurrency}: ${s.count} in ${Math.round(s.perSecond)}/s, mean ${s.mean.toFixed(4)} ms, p50 ${s.p50.toFixed(4)} ms, p99 ${s.p99.toFixed(4)} ms`,
  );

interface Results {
  load: LoadRow[];
  keys: KeyRow[];
  sdk: SdkRow[];
  /** The key verifier's cache lifetime (the same on every database). */
  keyCacheMs: number;
}

/** Each database in turn, every scenario on the same TDK; then the tables, printed and into the docs. */
async function compare(): Promise<void> {
  const results: Results = { load: [], keys: [], sdk: [], keyCacheMs: 0 };
  for (const database of databases) {
    await withTdk(database, (bench) => measureOn(database, bench, results));
  }
  const text = resultsMarkdown(results);
  console.log(`\n${text}`);
  updateDocs('results', text);
}

/**
 * After a warm-up: what verifying the API key costs, cached and not; the SDK against a raw fetch of
 * the same call; then, for each connection count, the agent directly and through TDK under load.
 */
async function measureOn(database: DatabaseKind, bench: BenchTdk, results: Results): Promise<void> {
  await measure(direct(bench), 10, warmUpSeconds);
  await measure(throughTdk(bench), 10, warmUpSeconds);
  await settle();

  const keys = await measureKeyVerification(bench, keySeconds, sampleWarmUpSeconds);
  progressSampled(database, 'key cached', keys.cached);
  progressSampled(database, 'key uncached', keys.uncached);
  results.keyCacheMs = bench.keyCacheMs;
  results.keys.push(
    { database, cache: 'cached', sampled: keys.cached },
    { database, cache: 'uncached', sampled: keys.uncached },
  );

  for (const { raw, sdk } of await compareSdk(bench, sdkConcurrencies, seconds, sampleWarmUpSeconds)) {
    progressSampled(database, 'raw fetch', raw);
    progressSampled(database, 'SDK', sdk);
    const added = { p50: sdk.p50 - raw.p50, mean: sdk.mean - raw.mean };
    results.sdk.push(
      { database, client: 'raw fetch', sampled: raw },
      { database, client: 'SDK', sampled: sdk, added },
    );
  }

  for (const connections of connectionCounts) {
    const d = await measure(direct(bench), connections, seconds);
    progress(database, 'direct', d);
    const t = await measure(throughTdk(bench), connections, seconds);
    progress(database, 'TDK', t);
    results.load.push(
      { database, path: 'direct', measured: d },
      { database, path: 'TDK', measured: t, addedP50: t.p50 - d.p50 },
    );
  }
}

function resultsMarkdown({ load, keys, sdk, keyCacheMs }: Results): string {
  return [
    `Measured ${new Date().toISOString().slice(0, 10)} with \`${command()}\` at ${revision()}, on ${machine()}.`,
    '',
    '#### Paid calls under load',
    '',
    `autocannon, ${seconds} s per scenario after a ${warmUpSeconds} s warm-up of both paths.`,
    '',
    loadTable(load),
    '',
    '#### API key verification',
    '',
    `One verification at a time, ${keySeconds} s each way after ${sampleWarmUpSeconds} s of warm-up. ` +
      'Cached: the same key again and again ' +
      `(the cache keeps it ${keyCacheMs} ms, so it goes to the database about once in that time); ` +
      'uncached: evicted before each verification, so each is a database lookup.',
    '',
    keyTable(keys),
    '',
    '#### SDK overhead',
    '',
    `The paid call from \`@tdk/client\` and from a raw \`fetch\` with the same headers and a fresh ` +
      `Idempotency-Key, in turn from each caller, ${seconds} s at each concurrency after ${sampleWarmUpSeconds} s ` +
      'of warm-up; calls/s is concurrency ÷ mean.',
    '',
    sdkTable(sdk),
  ].join('\n');
}

/**
 * Per database, a short TDK-only load under the CPU profiler (where a paid call spends its CPU),
 * then one connection with every query timed (how many statements a call makes, and their time).
 */
async function profile(): Promise<void> {
  mkdirSync(profileDir, { recursive: true });
  const sections: string[] = [];
  for (const database of databases) {
    const timing = createQueryTiming();
    await withTdk(
      database,
      async (bench) => {
        await measure(throughTdk(bench), 10, warmUpSeconds);
        await settle();
        // Before the profiler: stopping it throws optimized code away, and recompiling would be counted.
        const before = cpuSnapshot();
        const loaded = await measure(throughTdk(bench), 10, profileSeconds);
        const cpu = cpuPerCall(before, cpuSnapshot(), loaded.answered);
        await settle();
        const { result, profile } = await profiled(() => measure(throughTdk(bench), 10, profileSeconds));
        const file = new URL(`tdk-${database}.cpuprofile`, profileDir);
        writeFileSync(file, JSON.stringify(profile));
        console.log(`wrote ${file.pathname} (open it in Chrome DevTools › Performance)`);
        await settle();
        timing.reset();
        const sequential = await measure(throughTdk(bench), 1, profileSeconds);
        sections.push(
          [
            `#### ${database}`,
            '',
            cpuMarkdown(database, cpu, loaded),
            '',
            `CPU profile: ${Math.round(result.requestsPerSecond)} paid calls/s at 10 connections, under the profiler.`,
            '',
            summaryMarkdown(summarise(profile)),
            '',
            queriesMarkdown(timing, sequential),
          ].join('\n'),
        );
      },
      timing.plugin,
    );
  }
  const text = [
    `Profiled ${new Date().toISOString().slice(0, 10)} with \`${command()}\` at ${revision()}, on ${machine()}.`,
    `Per database: the CPU a paid call costs, by thread and process, over ${profileSeconds} s of load at 10 connections;`,
    `a sampling profile of TDK's thread over another ${profileSeconds} s (the load generator runs in another thread; the`,
    `profile counts wall time, so a write that hands the CPU to Postgres shows as \`writev\`); then ${profileSeconds} s at one`,
    'connection with every query timed.',
    '',
    sections.join('\n\n'),
  ].join('\n');
  console.log(`\n${text}`);
  updateDocs('profile', text);
}

/** What one paid call costs the machine in CPU, by where it runs, and the ceiling that sets. */
function cpuMarkdown(database: DatabaseKind, cpu: CpuPerCall, loaded: Measured): string {
  const total = cpu.main + cpu.background + cpu.postgres;
  const ms = (n: number) => n.toFixed(2);
  return [
    `CPU per paid call at 10 connections (${Math.round(loaded.requestsPerSecond)} calls/s, without the profiler), from /proc:`,
    '',
    '| where | ms per call |',
    '|---|--:|',
    `| TDK's thread${database === 'pglite-memory' ? ' (with PGlite)' : ''} | ${ms(cpu.main)} |`,
    `| TDK's other threads (V8 garbage collection and compilation, libuv) | ${ms(cpu.background)} |`,
    ...(database === 'postgres' ? [`| Postgres server processes | ${ms(cpu.postgres)} |`] : []),
    `| **in all** | **${ms(total)}** |`,
    '',
    `At ${ms(total)} ms a call, ${cores} cores make at most ${Math.round((cores * 1000) / total)} calls/s (before the load generator's share); ` +
      `one event loop at ${ms(cpu.main)} ms at most ${Math.round(1000 / cpu.main)}.`,
  ].join('\n');
}

function queriesMarkdown(timing: QueryTiming, sequential: Measured): string {
  const calls = sequential.answered;
  const totals = timing.totals();
  const count = totals.reduce((sum, t) => sum + t.count, 0);
  const ms = totals.reduce((sum, t) => sum + t.ms, 0);
  const perCall = (n: number) => (n / calls).toFixed(2);
  return [
    `Queries at 1 connection: ${Math.round(sequential.requestsPerSecond)} paid calls/s, ${sequential.mean.toFixed(2)} ms per call, ` +
      `of which ${perCall(ms)} ms in ${perCall(count)} statements:`,
    '',
    '| statement | per call | ms per call |',
    '|---|--:|--:|',
    ...totals.map((t) => `| ${t.statement} | ${perCall(t.count)} | ${perCall(t.ms)} |`),
  ].join('\n');
}

await (process.env.BENCH_PROFILE === '1' ? profile() : compare());
