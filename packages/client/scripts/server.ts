import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = new URL('../../../apps/server/bin/tdk.mjs', import.meta.url).pathname;

export interface RunningServer {
  /** e.g. `http://127.0.0.1:41234`: the SDK's `baseUrl`. */
  url: string;
  stop(): Promise<void>;
}

/**
 * A real TDK (`tdk start`, embedded defaults and example agents) on a free port, over a throwaway
 * in-memory database, in its own process: the server as users run it, not a test double.
 */
export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tdk-client-'));
  const child = spawn(process.execPath, [bin, 'start'], {
    // Only PATH from outside, so a developer's own settings (DATABASE_URL…) never leak in.
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: 'memory:',
      TDK_PORT: '0',
      TDK_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    // Kept reading for the whole run: a full pipe would block the server.
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/API docs\s+(http:\/\/\S+)\/docs/);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`tdk start exited with ${code}:\n${output}`)));
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
