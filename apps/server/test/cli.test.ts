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

/** Runs one `tdk` command to completion, with the scratch data folder and any extra settings. */
function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH, TDK_DATA_DIR: dataDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.on('exit', (code) => resolve({ code, stdout, out }));
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
    // The embedded default's first admin, with a password printed once on the console and never logged.
    const password = first.output().match(/Admin password (\S+)/)?.[1];
    expect(first.output()).toContain('Admin account  admin@tdk.local');
    expect(password).toBeDefined();
    expect(
      first
        .output()
        .split('\n')
        .filter((line) => line.includes(password ?? '')).length,
    ).toBe(1);
    const signedIn = await fetch(`${first.url}/api/tdk/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@tdk.local', password }),
    });
    expect(((await signedIn.json()) as { user: { role: string } }).user.role).toBe('admin');
    const exited = exitOf(first.child);
    first.child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const second = await startCli();
    expect(second.output()).not.toContain('Admin password');
    const after = (await (await fetch(`${second.url}/api/tdk/info`)).json()) as { instance_id: string };
    expect(after.instance_id).toBe(before.instance_id);
    const exitedAgain = exitOf(second.child);
    second.child.kill('SIGINT');
    expect(await exitedAgain).toBe(0);
  }, 120_000);

  it('refuses to start on a bad setting and names the variable', async () => {
    const { code, out } = await run(['start'], { TDK_PORT: 'not-a-port' });
    expect(code).toBe(1);
    expect(out).toContain('TDK_PORT');
    expect(out).toContain('Invalid configuration');
  }, 60_000);

  it('creates, then promotes, an admin from the command line', async () => {
    const created = await run(['admin', 'create', '--email', 'ops@example.com']);
    expect(created.code).toBe(0);
    expect(created.out).toMatch(/Created admin ops@example.com \(usr_[a-z2-7]+\)/);
    expect(created.out).toMatch(/Password: \S{20,}/);
    const promoted = await run([
      'admin',
      'create',
      '--email',
      'OPS@example.com',
      '--password',
      'another long passphrase',
    ]);
    expect(promoted.code).toBe(0);
    expect(promoted.out).toContain('Promoted admin ops@example.com');
    const weak = await run(['admin', 'create', '--email', 'x@example.com', '--password', 'short']);
    expect(weak.code).toBe(1);
    expect(weak.out).toContain('at least 10 characters');
  }, 120_000);

  it('reconciles the embedded chain against the ledger with no difference', async () => {
    const { code, stdout } = await run(['reconcile']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      checked_wallets: 1,
      differences: [],
      usage: {
        period: new Date().toISOString().slice(0, 7),
        accounts: 0,
        differences: [],
        undelivered_reports: 0,
      },
    });
    const bad = await run(['reconcile', 'last-month']);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('Usage: tdk reconcile [YYYY-MM]');
  }, 120_000);

  it('migrates on demand', async () => {
    const { code, out } = await run(['migrate']);
    expect(code).toBe(0);
    expect(out).toMatch(/up to date|Applied/);
  }, 120_000);
});
