import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time actually used, from Linux's /proc: this process's threads and the Postgres server's
 * processes. A sampling profile counts wall time on TDK's thread, including the moments another
 * process ran in its place (on 2 cores, right after each write that wakes a Postgres backend); this
 * counts only what ran, so the parts add up to what a paid call costs the machine.
 */
export interface CpuSnapshot {
  /** Milliseconds of CPU by thread id, for this process. */
  threads: Map<number, number>;
  /** Milliseconds of CPU of every `postgres` process on the machine. */
  postgres: number;
}

// utime and stime, fields 14 and 15 of /proc/…/stat, in clock ticks (USER_HZ, 100 on Linux).
const msPerTick = 10;
function cpuMs(statPath: string): number {
  const fields = readFileSync(statPath, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * msPerTick;
}

export function cpuSnapshot(): CpuSnapshot {
  const threads = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    threads.set(Number(tid), cpuMs(`/proc/self/task/${tid}/stat`));
  }
  let postgres = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres')
        postgres += cpuMs(`/proc/${pid}/stat`);
    } catch {
      // The process ended between listing and reading.
    }
  }
  return { threads, postgres };
}

export interface CpuPerCall {
  /** TDK's thread: the event loop (on PGlite, the database too). */
  main: number;
  /**
   * This process's other threads: V8's (garbage collection, compilation) and libuv's. The load
   * generator's worker has ended by the time the load returns, so it is not counted.
   */
  background: number;
  postgres: number;
}

/** CPU milliseconds per call between two snapshots taken around `calls` calls. */
export function cpuPerCall(before: CpuSnapshot, after: CpuSnapshot, calls: number): CpuPerCall {
  let main = 0;
  let background = 0;
  for (const [tid, ms] of after.threads) {
    const used = (ms - (before.threads.get(tid) ?? 0)) / calls;
    if (tid === process.pid) main += used;
    else background += used;
  }
  return { main, background, postgres: (after.postgres - before.postgres) / calls };
}
