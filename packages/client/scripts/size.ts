/**
 * The size of the SDK as an app would ship it: the package's entry bundled and minified by esbuild,
 * then gzipped. `pnpm run size` prints it; test/package.test.ts holds it to the budget.
 */

import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const budget = { minified: 10 * 1024, gzipped: 4 * 1024 };

export async function measure(): Promise<{ minified: number; gzipped: number }> {
  const { outputFiles } = await build({
    entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
  });
  const code = outputFiles[0]?.contents ?? new Uint8Array();
  return { minified: code.length, gzipped: gzipSync(code).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { minified, gzipped } = await measure();
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  process.stdout.write(
    `@tdk/client: ${kb(minified)} minified, ${kb(gzipped)} gzipped (${minified} / ${gzipped} bytes)\n`,
  );
}
