import { mkdirSync, writeFileSync } from 'node:fs';
import type { TestServer } from '@tdk/server/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchChromium,
  newAdmin,
  newPage,
  password,
  screenshotDir,
  seed,
  seeded,
  startServer,
} from './support';

/**
 * Every page's first view, on the embedded default (PGlite) holding 100,000 usage rows and 10,000
 * calls: a fresh navigation until its data is on screen, three times, the median under a second.
 * The numbers go to test-results/performance.json; docs/admin-performance.md keeps a run.
 */
// A measurement, like `pnpm bench`: run it with `pnpm --filter @tdk/admin perf` (it takes a minute).
describe.runIf(process.env.TDK_ADMIN_PERF)('the admin app with a busy database', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const results: Record<string, number[]> = {};

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
    await seed(server);
    const admin = await newAdmin(server);
    page = await newPage(browser, errors);
    await page.goto(`${server.url}/admin/`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  }, 120_000);
  afterAll(async () => {
    mkdirSync(`${screenshotDir}/..`, { recursive: true });
    writeFileSync(
      `${screenshotDir}/../performance.json`,
      `${JSON.stringify({ ...seeded, ms: results }, null, 2)}\n`,
    );
    await browser?.close();
    await server?.stop();
    expect(errors).toEqual([]);
  });

  const pages: Array<[string, string, (page: Page) => Promise<unknown>]> = [
    ['Overview', '/', (p) => p.getByRole('img', { name: /calls and/ }).waitFor()],
    [
      'Customers',
      '/customers',
      (p) =>
        p
          .getByRole('link', { name: /@perf\.example$/ })
          .first()
          .waitFor(),
    ],
    ['Customer', '/customers/usr_perf1', (p) => p.getByRole('row', { name: /perf key/ }).waitFor()],
    [
      'Keys and wallets',
      '/keys',
      (p) =>
        p
          .getByRole('row', { name: /perf key/ })
          .first()
          .waitFor(),
    ],
    ['Agents', '/agents', (p) => p.getByRole('row', { name: /^memory/ }).waitFor()],
    [
      'Usage and billing',
      '/usage',
      (p) => p.getByRole('region', { name: 'Usage by customer' }).getByRole('row').nth(1).waitFor(),
    ],
    ['Calls', '/calls', (p) => p.getByRole('row', { name: /perf/ }).first().waitFor()],
    ['Call', '/calls/call_perf1', (p) => p.getByRole('heading', { name: 'Status changes' }).waitFor()],
    ['Audit log', '/audit', (p) => p.getByRole('cell', { name: 'perf.seeded' }).first().waitFor()],
  ];

  it.each(pages)('%s shows its first view in under a second', async (name, path, ready) => {
    const times: number[] = [];
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      await page.goto(`${server.url}/admin${path}`);
      await ready(page);
      // Every part of the page has its data: no "Loading…" left.
      await page.getByText('Loading…').first().waitFor({ state: 'detached' });
      times.push(Math.round(performance.now() - started));
    }
    results[name] = times;
    const median = [...times].sort((a, b) => a - b)[1]!;
    expect(median, `${name}: ${times.join(', ')} ms`).toBeLessThan(1_000);
  });
});
