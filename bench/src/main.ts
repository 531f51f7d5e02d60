import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KyselyPlugin } from 'kysely';
import { type Measured, measure, type Target } from './load';
import { profiled, summarise, summaryMarkdown } from './profile';
import { createQueryTiming, type QueryTiming } from './queries';
import { command, machine, type Row, resultsTable, revision, updateDocs } from './report';
import { type BenchTdk, type DatabaseKind, startBenchTdk } from './tdk';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
if (!(seconds > 0)) throw new Error(`BENCH_SECONDS must be a positive number of seconds (got ${seconds})`);
const connectionCounts = process.env.BENCH_FULL === '1' ? [1, 10, 50] : [1, 10];
const databases: DatabaseKind[] = process.env.BENCH_DATABASE_URL
  ? ['pglite-memory', 'postgres']
  : ['pglite-memory'];
// The first seconds of load pay for JIT compilation and cold caches; no scenario should.
const warmUpSeconds = 2;
const profileSeconds = 5;
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

/** Each database, each connection count: the agent directly, then through TDK. */
async function compare(): Promise<void> {
  const rows: Row[] = [];
  for (const database of databases) {
    await withTdk(database, async (bench) => {
      await measure(direct(bench), 10, warmUpSeconds);
      await measure(throughTdk(bench), 10, warmUpSeconds);
      for (const connections of connectionCounts) {
        const d = await measure(direct(bench), connections, seconds);
        progress(database, 'direct', d);
        const t = await measure(throughTdk(bench), connections, seconds);
        progress(database, 'TDK', t);
        rows.push(
          { database, path: 'direct', measured: d },
          { database, path: 'TDK', measured: t, addedP50: t.p50 - d.p50 },
        );
      }
    });
  }
  const results = [
    `Measured ${new Date().toISOString().slice(0, 10)} with \`${command()}\` at ${revision()}, on ${machine()}.`,
    `Each scenario ran ${seconds} s after a ${warmUpSeconds} s warm-up of both paths.`,
    '',
    resultsTable(rows),
  ].join('\n');
  console.log(`\n${results}`);
  updateDocs('results', results);
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
        const { result, profile } = await profiled(() => measure(throughTdk(bench), 10, profileSeconds));
        const file = new URL(`tdk-${database}.cpuprofile`, profileDir);
        writeFileSync(file, JSON.stringify(profile));
        console.log(`wrote ${file.pathname} (open it in Chrome DevTools › Performance)`);
        // Calls still in flight when the profiled load stopped finish before counting starts.
        await sleep(1000);
        timing.reset();
        const sequential = await measure(throughTdk(bench), 1, profileSeconds);
        sections.push(
          [
            `#### ${database}`,
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
    `CPU time of TDK's thread over ${profileSeconds} s of load (the load generator runs in another thread);`,
    `then ${profileSeconds} s at one connection with every query timed.`,
    '',
    sections.join('\n\n'),
  ].join('\n');
  console.log(`\n${text}`);
  updateDocs('profile', text);
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
