import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensureAdmin } from '@tdk/api';
import { startTestServer, type TestServer } from '@tdk/server/testing';
import { sql } from 'kysely';
import { type Browser, chromium, type Page } from 'playwright-core';

export const distDir = fileURLToPath(new URL('../dist', import.meta.url));
export const screenshotDir = fileURLToPath(new URL('../test-results/screenshots', import.meta.url));
export const password = 'correct horse battery staple';

/** A whole TDK serving this package's production build at /admin. */
export async function startServer(): Promise<TestServer> {
  if (!existsSync(`${distDir}/index.html`)) {
    throw new Error('apps/admin/dist is missing: run `pnpm --filter @tdk/admin build` first.');
  }
  return startTestServer('pglite-memory', { TDK_ADMIN_DIST: distDir });
}

/** Debian's Chromium, never a downloaded browser (see ../shared/STACK.md). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A laptop-sized page that fails the test on any script error. */
export async function newPage(browser: Browser, errors: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(8_000);
  page.on('pageerror', (error) => errors.push(error.message));
  return page;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: `${screenshotDir}/${name}.png`, fullPage: true });
}

let counter = 0;

export async function newAdmin(server: TestServer): Promise<{ email: string }> {
  const email = `admin.${++counter}@example.com`;
  await ensureAdmin(server.tdk.database.db, { email, password });
  return { email };
}

/** A signed-up developer with one API key, through the public REST API as a newcomer would. */
export async function newDeveloper(server: TestServer, name: string) {
  const email = `${name}.${++counter}@example.com`;
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, never>;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json as Record<string, { [k: string]: unknown }>;
  };
  const registered = await post('/api/tdk/auth/register', { email, password });
  const session = registered.session!.token as string;
  const key = await post('/api/tdk/keys/generate', { name: `${name}'s key` }, session);
  return {
    email,
    session,
    userId: registered.user!.id as string,
    apiKey: key.secret as unknown as string,
    keyId: (key.key as { id: string }).id,
  };
}

/** `POST /api/tdk/v1/call` with an API key: status and body. */
export async function callAgent(server: TestServer, apiKey: string, body: unknown) {
  const res = await fetch(`${server.url}/api/tdk/v1/call`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string }; status?: string } };
}

/** What `seed` adds: the busy database. */
export const seeded = { customers: 1_000, usageRows: 100_000, calls: 10_000 };

/** Accounts with one key each, a hundred days of per-key usage counters, a month of calls, and audit entries. */
export async function seed(server: TestServer): Promise<void> {
  const { db } = server.tdk.database;
  const agent = await db
    .selectFrom('agent')
    .select('id')
    .where('name', '=', 'memory')
    .executeTakeFirstOrThrow();
  await sql`insert into app_user (id, email, password_hash)
    select 'usr_perf' || i, 'customer' || i || '@perf.example', 'unused' from generate_series(1, ${seeded.customers}) i`.execute(
    db,
  );
  await sql`insert into wallet (id, kind, public_key, sealed_secret, kek_version, owner_user_id, tier)
    select 'wal_perf' || i, 'dedicated', 'PerfWallet' || i, 'unused', 1, 'usr_perf' || i, 'free'
    from generate_series(1, ${seeded.customers}) i`.execute(db);
  await sql`insert into api_key (id, user_id, wallet_id, name, environment, secret_hash, hint)
    select 'key_perf' || i, 'usr_perf' || i, 'wal_perf' || i, 'perf key', 'test', md5('perf' || i), 'tdk_test_…perf'
    from generate_series(1, ${seeded.customers}) i`.execute(db);
  await sql`insert into key_usage_period (api_key_id, period, calls, spend)
    select 'key_perf' || (1 + i % ${seeded.customers}), 'day:' || to_char(current_date - i / ${seeded.customers}, 'YYYY-MM-DD'), 1 + i % 50, 0
    from generate_series(0, ${seeded.usageRows - 1}) i`.execute(db);
  // Spread over the last 30 days; one in twenty failed (paid, not billed).
  await sql`insert into call (id, api_key_id, user_id, agent_id, status, request_hash, agent_cost, markup,
      developer_cost, tx_signature, receipt_id, latency_ms, response, created_at, finished_at)
    select 'call_perf' || i, 'key_perf' || (1 + i % ${seeded.customers}), 'usr_perf' || (1 + i % ${seeded.customers}), ${agent.id}::uuid,
      case when i % 20 = 0 then 'failed' else 'succeeded' end, 'perf', 1000, 500,
      case when i % 20 = 0 then 0 else 1500 end, 'perfsig' || i, 'call_perf' || i, 5 + i % 40,
      case when i % 20 = 0 then '{"error":{"code":"agent_failed","message":"seeded"}}'::jsonb else '{}'::jsonb end,
      now() - i * interval '259 seconds', now() - i * interval '259 seconds'
    from generate_series(1, ${seeded.calls}) i`.execute(db);
  await sql`insert into call_event (call_id, seq, status, at) select id, 1, status, created_at from call
    where id like 'call_perf%'`.execute(db);
  await sql`insert into audit_log (id, actor_type, action, target_type, target_id, details, at)
    select 'aud_perf' || i, 'system', 'perf.seeded', 'user', 'usr_perf' || (1 + i % ${seeded.customers}), '{}', now() - i * interval '1 minute'
    from generate_series(1, ${seeded.calls}) i`.execute(db);
}
