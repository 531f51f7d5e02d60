import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const bin = new URL('../bin/tdk.mjs', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'tdk-cli-'));

/** Runs `tdk start` as a user would (no variables but a scratch data folder) and waits for its URL. */
function startCli(
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [bin, 'start'], {
    env: { PATH: process.env.PATH, TDK_DATA_DIR: dataDir, TDK_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/API docs\s+(http:\/\/\S+)\/docs/);
      if (match?.[1]) resolve({ child, url: match[1], output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`tdk start exited with ${code}:\n${output}`)));
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('tdk CLI', () => {
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts with embedded defaults, prints its URLs, stops on SIGTERM, and keeps its data across restarts', async () => {
    const first = await startCli();
    expect(first.output()).toMatch(/OpenAPI\s+http:\/\/\S+\/api\/openapi\.json/);
    expect(first.output()).toMatch(/Metrics\s+http:\/\/\S+\/metrics/);
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    const before = (await (await fetch(`${first.url}/api/tdk/info`)).json()) as { instance_id: string };
    const exited = exitOf(first.child);
    first.child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const second = await startCli();
    const after = (await (await fetch(`${second.url}/api/tdk/info`)).json()) as { instance_id: string };
    expect(after.instance_id).toBe(before.instance_id);
    const exitedAgain = exitOf(second.child);
    second.child.kill('SIGINT');
    expect(await exitedAgain).toBe(0);
  }, 60_000);

  it('refuses to start on a bad setting and names the variable', async () => {
    const child = spawn(process.execPath, [bin, 'start'], {
      env: { PATH: process.env.PATH, TDK_DATA_DIR: dataDir, TDK_PORT: 'not-a-port' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    expect(await exitOf(child)).toBe(1);
    expect(stderr).toContain('TDK_PORT');
    expect(stderr).toContain('Invalid configuration');
  }, 30_000);

  it('migrates on demand', async () => {
    const child = spawn(process.execPath, [bin, 'migrate'], {
      env: { PATH: process.env.PATH, TDK_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    expect(await exitOf(child)).toBe(0);
    expect(stdout).toMatch(/up to date|Applied/);
  }, 30_000);
});
