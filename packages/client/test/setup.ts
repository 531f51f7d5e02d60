import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startServer } from '../scripts/server';
import { rest } from './support/rest';

/** What every test file gets from `inject('tdk')`. */
export interface TestServerInfo {
  url: string;
  /** A session of the server's first admin. */
  adminToken: string;
  /** Agents registered for the tests, by name: `broken` (fails), `slow` (times out after 1 s), `pricey` ($500). */
  agents: { broken: string; slow: string; pricey: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    tdk: TestServerInfo;
  }
}

const admin = { email: 'admin@sdk.test', password: 'an admin passphrase for tests' };

const root = fileURLToPath(new URL('..', import.meta.url));

/** Modification times of the files under `path` (or of `path` itself). */
function mtimes(path: string): number[] {
  const stat = statSync(path);
  if (!stat.isDirectory()) return [stat.mtimeMs];
  return readdirSync(path).flatMap((name) => mtimes(join(path, name)));
}

/**
 * Whether dist/ was built from the sources as they are. Under turbo the `build` task has just made
 * it, and other packages' tasks may be reading it: building it again here would pull it from under
 * them.
 */
function distIsFresh(): boolean {
  try {
    const sources = ['src', 'build.mjs', 'package.json', 'tsconfig.build.json'].flatMap((p) =>
      mtimes(join(root, p)),
    );
    return Math.max(...sources) <= Math.min(...mtimes(join(root, 'dist')));
  } catch {
    return false; // no dist/ yet
  }
}

/**
 * Builds dist/ unless it is fresh (the package tests install and measure it) and starts one real TDK for every test
 * file, with tiers that make each limit quick to reach: `paid` allows 1 call a minute, `pro` 1 call a
 * day. Keys are checked on every request, so a suspension shows at once.
 */
export default async function setup(project: TestProject) {
  if (!distIsFresh()) execFileSync(process.execPath, ['build.mjs'], { cwd: root, stdio: 'inherit' });
  const server = await startServer({
    TDK_ADMIN_EMAIL: admin.email,
    TDK_ADMIN_PASSWORD: admin.password,
    TDK_KEY_CACHE_MS: '0',
    TDK_TIERS: JSON.stringify({ paid: { callsPerMinute: 1 }, pro: { includedCallsPerDay: 1 } }),
  });
  try {
    const { session } = await rest<{ session: { token: string } }>(server.url, 'POST', '/auth/login', {
      body: admin,
    });
    const adminToken = session.token;
    // The fixtures live beside the example agents, on the agent server the embedded default runs.
    const memory = await rest<{ endpoint_url: string; owner_wallet: string }>(
      server.url,
      'GET',
      '/agents/memory',
    );
    const register = async (name: string, fields: Record<string, unknown>) =>
      (
        await rest<{ id: string }>(server.url, 'POST', '/admin/agents', {
          token: adminToken,
          body: {
            name,
            description: `SDK test agent: ${name}`,
            endpoint_url: memory.endpoint_url.replace(/memory$/, name),
            price_base: 1000,
            owner_wallet: memory.owner_wallet,
            input_schema: { type: 'object' },
            output_schema: { type: 'object' },
            ...fields,
          },
        })
      ).id;
    project.provide('tdk', {
      url: server.url,
      adminToken,
      agents: {
        broken: await register('broken', {}),
        slow: await register('slow', { timeout_ms: 1000 }),
        pricey: await register('pricey', { endpoint_url: memory.endpoint_url, price_base: 500_000_000 }),
      },
    });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return () => server.stop();
}
