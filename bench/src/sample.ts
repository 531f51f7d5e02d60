import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** An operation timed in this process. Latencies are in milliseconds, with their fractions. */
export interface Sampled {
  concurrency: number;
  count: number;
  /** `concurrency` ÷ mean latency (Little's law): the rate that many callers doing only this would reach. */
  perSecond: number;
  mean: number;
  p50: number;
  p99: number;
}

type Op = () => Promise<unknown>;

/**
 * Runs `op` from `concurrency` loops, each starting again as soon as it is answered, for `seconds`,
 * and times every run. It shares TDK's thread: meant for operations whose caller's own work is small
 * next to what they measure (a key verification, a few dozen calls a second), not for HTTP load.
 */
export async function sample(op: Op, seconds: number, concurrency = 1): Promise<Sampled> {
  const [sampled] = await interleave([op], seconds, concurrency);
  return sampled!;
}

/**
 * Like `sample`, with each loop running the ops in turn (the loops starting at different ones), so
 * the ops meet the same conditions: a database that grows as calls are recorded slows later calls,
 * and a neighbour's load comes and goes. Back-to-back runs would charge either to one op.
 */
export async function interleave(ops: Op[], seconds: number, concurrency: number): Promise<Sampled[]> {
  // Nanosecond HDR histograms: exact to 3 significant digits, whatever the number of samples.
  const histograms = ops.map(() => createHistogram());
  const end = performance.now() + seconds * 1000;
  const loop = async (first: number) => {
    for (let i = first; performance.now() < end; i = (i + 1) % ops.length) {
      const at = performance.now();
      await ops[i]!();
      histograms[i]!.record(Math.max(1, Math.round((performance.now() - at) * 1e6)));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, n) => loop(n % ops.length)));
  return histograms.map((h) => sampled(h, concurrency));
}

function sampled(histogram: RecordableHistogram, concurrency: number): Sampled {
  const ms = (ns: number) => ns / 1e6;
  return {
    concurrency,
    count: histogram.count,
    perSecond: (concurrency * 1e9) / histogram.mean,
    mean: ms(histogram.mean),
    p50: ms(histogram.percentile(50)),
    p99: ms(histogram.percentile(99)),
  };
}
