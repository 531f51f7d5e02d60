// Builds dist/: one bundle per module format (esbuild) and the type declarations (tsc), for both.
//
//   dist/esm/index.js   ES module: Node's `import`, browsers, edge runtimes, bundlers
//   dist/cjs/index.js   CommonJS: Node's `require` (dist/cjs/package.json says so)
//   dist/*/**.d.ts      the same declarations twice, so TypeScript reads each as the format beside it
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('.', import.meta.url));

export async function buildPackage() {
  rmSync(`${root}dist`, { recursive: true, force: true });
  // `neutral`: no Node built-in resolves, so the build fails if the source ever reaches for one.
  const common = {
    entryPoints: [`${root}src/index.ts`],
    bundle: true,
    platform: 'neutral',
    target: 'es2022',
  };
  await Promise.all([
    build({ ...common, format: 'esm', outfile: `${root}dist/esm/index.js` }),
    build({ ...common, format: 'cjs', outfile: `${root}dist/cjs/index.js` }),
  ]);
  writeFileSync(`${root}dist/cjs/package.json`, '{ "type": "commonjs" }\n');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`], { stdio: 'inherit' });
  cpSync(`${root}dist/esm`, `${root}dist/cjs`, {
    recursive: true,
    filter: (source) => !source.endsWith('.js'),
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildPackage();
