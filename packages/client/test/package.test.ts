import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budget, measure } from '../scripts/size';
import { newDeveloper } from './support/developer';

/** The package as the world gets it: dist/ (built by test/setup.ts), packed by pnpm. */
const root = new URL('..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'tdk-client-pack-'));
let tarball: string;

/** Runs a command to completion: its stdout, or an error with everything it printed. */
function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  try {
    return execFileSync(command, args, {
      cwd,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      stdio: 'pipe',
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

beforeAll(() => {
  // dist/ is already built: a second build here would race the other test files.
  run('pnpm', ['pack', '--config.ignore-scripts=true', '--pack-destination', scratch], root);
  const name = readdirSync(scratch).find((file) => file.endsWith('.tgz'));
  tarball = join(scratch, name ?? 'missing.tgz');
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the published package', () => {
  it('holds the built files, README and LICENSE, and depends on nothing', () => {
    const files = run('tar', ['-tzf', tarball], scratch).trim().split('\n').sort();
    expect(files.filter((file) => !file.startsWith('package/dist/'))).toEqual([
      'package/LICENSE',
      'package/README.md',
      'package/package.json',
    ]);
    expect(files).toEqual(
      expect.arrayContaining([
        'package/dist/esm/index.js',
        'package/dist/esm/index.d.ts',
        'package/dist/cjs/index.js',
        'package/dist/cjs/index.d.ts',
        'package/dist/cjs/package.json',
      ]),
    );
    const manifest = JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json'], scratch)) as Record<
      string,
      unknown
    >;
    expect(manifest.private).toBeUndefined();
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      expect(manifest[field], field).toBeUndefined();
    }
    expect(JSON.stringify(manifest)).not.toMatch(/workspace:|catalog:/);
  });

  it('imports nothing in its browser build, no Node built-in in particular', async () => {
    // Bundling the shipped file for a browser fails on any import a browser cannot resolve.
    const { metafile } = await build({
      entryPoints: [join(root, 'dist/esm/index.js')],
      bundle: true,
      platform: 'browser',
      write: false,
      metafile: true,
    });
    expect(Object.values(metafile.inputs).flatMap((input) => input.imports)).toEqual([]);
    expect(readFileSync(join(root, 'dist/cjs/index.js'), 'utf8')).not.toMatch(/\brequire\(/);
  });

  it(`fits the size budget: ≤ ${budget.minified} bytes minified, ≤ ${budget.gzipped} gzipped`, async () => {
    const size = await measure();
    expect(size.minified).toBeLessThanOrEqual(budget.minified);
    expect(size.gzipped).toBeLessThanOrEqual(budget.gzipped);
  });

  it('installs into a fresh project, type-checks, and runs against a server in ESM and CommonJS', async () => {
    const project = join(scratch, 'app');
    execFileSync('mkdir', [project]);
    writeFileSync(join(project, 'package.json'), '{ "name": "app", "private": true }\n');
    // A zero-dependency tarball installs without the network.
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], project);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2022',
          // The web's globals only: the declarations must not need @types/node.
          lib: ['es2022', 'dom'],
          types: [],
          strict: true,
          // Check the package's declarations, not TypeScript's own.
          skipLibCheck: false,
          skipDefaultLibCheck: true,
          outDir: 'out',
        },
        files: ['esm.mts', 'cjs.cts'],
      }),
    );
    writeFileSync(join(project, 'esm.mts'), esmSnippet);
    writeFileSync(join(project, 'cjs.cts'), cjsSnippet);
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    run(process.execPath, [tsc, '-p', '.'], project);

    const dev = await newDeveloper();
    const env = { TDK_API_KEY: dev.apiKey, TDK_BASE_URL: dev.baseUrl };
    expect(JSON.parse(run(process.execPath, ['out/esm.mjs'], project, env))).toEqual({
      ok: true,
      value: 'esm',
      keys: ['from'],
      cost: '$0.0015',
    });
    expect(JSON.parse(run(process.execPath, ['out/cjs.cjs'], project, env))).toEqual({
      value: 'esm',
      error: 'InvalidInputError',
    });
  });
});

const esmSnippet = `
import { type CallResult, TDK } from '@tdk/client';

declare const process: { env: Record<string, string | undefined> };

// A plugin of one's own, typed by declaration merging like the built-in shortcuts.
declare module '@tdk/client' {
  interface TDK {
    readonly keyNames: { list(): Promise<string[]> };
  }
}
TDK.use({ name: 'keyNames', install: (tdk) => ({ list: async () => (await tdk.memory.list()).keys }) });

const tdk = new TDK({ apiKey: process.env.TDK_API_KEY, baseUrl: process.env.TDK_BASE_URL });
const stored: CallResult<{ ok: true }> = await tdk.call<{ ok: true }>('memory', {
  action: 'store',
  key: 'from',
  value: 'esm',
});
const value: string | null = (await tdk.memory.get('from')).value;
console.log(JSON.stringify({ ok: stored.output.ok, value, keys: await tdk.keyNames.list(), cost: stored.cost.display }));
`;

const cjsSnippet = `
import { InvalidInputError, TDK } from '@tdk/client';

// The key and URL come from TDK_API_KEY and TDK_BASE_URL.
const tdk = new TDK();

async function main() {
  const { value } = await tdk.memory.get('from');
  const error = await tdk.call('memory', { action: 'nope' }).catch((e: unknown) => e);
  console.log(JSON.stringify({ value, error: error instanceof InvalidInputError ? error.name : String(error) }));
}
void main();
`;
