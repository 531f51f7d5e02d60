import { type ChildProcess, spawn } from 'node:child_process';
import type { DatabaseHandle } from '@tdk/db';

const bin = new URL('../../bin/tdk.mjs', import.meta.url).pathname;

export interface TdkProcess {
  child: ChildProcess;
  url: string;
  /** Everything it wrote so far (stdout and stderr), for a failing test's message. */
  output(): string;
  /** SIGTERM, then waits for the exit (a graceful shutdown). */
  stop(): Promise<void>;
}

/** A server's settings for a Postgres test database: its URL, and prepared statements as the database has them. */
export function postgresEnv({ target }: DatabaseHandle): Record<string, string> {
  if (target.kind !== 'postgres') throw new TypeError('a server process needs a Postgres test database');
  return {
    DATABASE_URL: target.url,
    DATABASE_PREPARED_STATEMENTS: String(target.preparedStatements !== false),
  };
}

/** `tdk start` as a real process (its own event loop, pools and caches); resolves once it serves. */
export function startTdkProcess(env: Record<string, string>): Promise<TdkProcess> {
  const child = spawn(process.execPath, [bin, 'start'], {
    env: { PATH: process.env.PATH, TDK_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/API docs\s+(http:\/\/\S+)\/docs/);
      if (!match?.[1]) return;
      resolve({
        child,
        url: match[1],
        output: () => output,
        stop: async () => {
          stopping = true;
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      const ended = `tdk start ended (${code ?? signal}):\n${output}`;
      reject(new Error(ended));
      // A server dying under a test is the finding: show why.
      if (!stopping) console.error(ended);
    });
  });
}

/** Polls `probe` until it holds; no fixed sleeps in tests. `what` may describe the last state seen. */
export async function until(
  what: string | (() => string),
  probe: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
