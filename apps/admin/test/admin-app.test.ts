import { testFixtures } from '@tdk/agents';
import { upsertAgent } from '@tdk/api';
import type { TestServer } from '@tdk/server/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callAgent,
  launchChromium,
  newAdmin,
  newDeveloper,
  newPage,
  password,
  screenshot,
  startServer,
} from './support';

/**
 * The built admin app in Debian's Chromium against a whole TDK: what an admin does in a day, each
 * step checked in the page and on the server, and a screenshot of every page in test-results/.
 */
const slow = {
  name: testFixtures.slow.name,
  description: testFixtures.slow.description,
  price_base: testFixtures.slow.priceBase.toString(),
  input_schema: testFixtures.slow.inputSchema,
  output_schema: testFixtures.slow.outputSchema,
  example_inputs: testFixtures.slow.exampleInputs,
};

describe('the admin app', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  let admin: { email: string };
  let alice: Awaited<ReturnType<typeof newDeveloper>>;
  let bob: Awaited<ReturnType<typeof newDeveloper>>;
  let memoryAgent: { owner_wallet: string; input_schema: unknown; output_schema: unknown };

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
    admin = await newAdmin(server);
    alice = await newDeveloper(server, 'alice');
    memoryAgent = await server.tdk.database.db
      .selectFrom('agent')
      .select(['owner_wallet', 'input_schema', 'output_schema'])
      .where('name', '=', 'memory')
      .executeTakeFirstOrThrow();
    const stored = await callAgent(server, alice.apiKey, {
      agent_id: 'memory',
      input: { action: 'store', key: 'greeting', value: 'hello' },
    });
    expect(stored.status).toBe(200);
    // A fixture that answers after `delay_ms`, so an async call is seen running, live.
    await upsertAgent(server.tdk.database.db, {
      ...slow,
      endpoint_url: server.tdk.agentServer!.agents.memory.replace(/memory$/, 'slow'),
      owner_wallet: memoryAgent.owner_wallet,
    });
    page = await newPage(browser, errors);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    expect(errors).toEqual([]);
  });

  const open = (path: string) => page.goto(`${server.url}/admin${path}`);
  const heading = (name: string) => page.getByRole('heading', { level: 1, name }).waitFor();

  it('is served with strict security headers, and an unknown path gets the app', async () => {
    const res = await open('/no/such/page');
    const headers = res!.headers();
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');
    await page.getByRole('heading', { name: 'TDK Admin' }).waitFor();
  });

  it('refuses a customer: not signed in by the form, no procedures (403), no app', async () => {
    bob = await newDeveloper(server, 'bob');
    await open('/');
    await page.getByLabel('Email').fill(bob.email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('This needs an admin account.').waitFor();
    await screenshot(page, '01-sign-in-refused');

    const overview = await fetch(`${server.url}/trpc/admin.overview`, {
      headers: { authorization: `Bearer ${bob.session}` },
    });
    expect(overview.status).toBe(403);
    expect(((await overview.json()) as { error: { data: { code: string } } }).error.data.code).toBe(
      'forbidden',
    );

    // Signed in by cookie elsewhere (the public login also sets it): the app still shows nothing.
    await page.evaluate(
      (credentials) =>
        fetch('/api/tdk/auth/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(credentials),
        }),
      { email: bob.email, password },
    );
    await page.reload();
    await heading('Admins only');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  it('signs an admin in and shows the overview tiles and chart', async () => {
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Overview');
    for (const tile of ['Calls per minute', 'Error rate', 'Treasury', 'Usage outbox']) {
      await page.getByRole('region', { name: tile }).waitFor();
    }
    expect(await page.getByRole('region', { name: 'Calls per minute' }).textContent()).toContain(
      '1 in the last hour',
    );
    await page.getByRole('img', { name: /1 calls and \$0\.0015 revenue/ }).waitFor();
    await screenshot(page, '02-overview');
  });

  it('finds a customer and changes their tier', async () => {
    await page.getByRole('link', { name: 'Customers' }).click();
    await heading('Customers');
    await page.getByLabel('Email or account id').fill('alice');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: alice.email }).click();
    await page.getByRole('heading', { name: alice.email }).waitFor();
    await page.getByRole('row', { name: /alice's key/ }).waitFor();
    await page.getByLabel('Tier').selectOption('paid');
    await page.getByRole('button', { name: 'Change tier' }).click();
    await page.getByRole('status').getByText('Saved.').waitFor();
    await screenshot(page, '03-customer');
    await page.getByRole('link', { name: '← All customers' }).click();
    await page.getByRole('link', { name: alice.email }).waitFor();
    await screenshot(page, '04-customers');
  });

  it('revokes a key after confirming, and calls with it fail from then on', async () => {
    await page.getByRole('link', { name: 'Keys and wallets' }).click();
    await heading('Keys and wallets');
    await page.getByLabel('Key id or wallet address').fill(alice.keyId);
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.getByRole('row', { name: /alice's key/ });
    await row.getByRole('button', { name: 'Revoke' }).click();
    const dialog = page.getByRole('dialog', { name: /Revoke alice's key/ });
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await row.getByText('revoked').waitFor();
    await screenshot(page, '05-keys');

    const call = await callAgent(server, alice.apiKey, { agent_id: 'memory', input: { action: 'list' } });
    expect(call.status).toBe(401);
    expect(call.body.error?.code).toBe('api_key_revoked');
  });

  it('tops a wallet up and rolls a key, each confirmed; the old secret stops at once', async () => {
    await page.getByLabel('Key id or wallet address').fill(bob.keyId);
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.getByRole('row', { name: /bob's key/ });
    await row.getByRole('button', { name: 'Top up' }).click();
    await page
      .getByRole('dialog', { name: /Top up the wallet/ })
      .getByRole('button', { name: 'Top up from the treasury' })
      .click();
    await row
      .getByRole('status')
      .getByText(/No top-up needed|Sent/)
      .waitFor();

    await row.getByRole('button', { name: 'Roll' }).click();
    const dialog = page.getByRole('dialog', { name: /Roll bob's key/ });
    await dialog.getByLabel('The current secret stops').selectOption('0');
    await dialog.getByRole('button', { name: 'Roll key' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const call = await callAgent(server, bob.apiKey, { agent_id: 'memory', input: { action: 'list' } });
    expect(call.status).toBe(401);
    expect(call.body.error?.code).toBe('api_key_revoked');
  });

  it('registers an agent and makes a real "try it" call with a test key', async () => {
    await page.getByRole('link', { name: 'Agents' }).click();
    await heading('Agents');
    await page.getByRole('button', { name: 'Register an agent' }).click();
    const form = page.getByRole('form', { name: 'Register an agent' });
    await form.getByLabel('Name').fill('notes');
    await form.getByLabel('Endpoint URL').fill(server.tdk.agentServer!.agents.memory);
    await form.getByLabel('Price (USDC base units)').fill('2000');
    await form.getByLabel('Owner wallet').fill(memoryAgent.owner_wallet);
    await form.getByLabel('Description').fill('Notes, kept by the memory agent');
    await form.getByLabel('Input schema (JSON Schema)').fill(JSON.stringify(memoryAgent.input_schema));
    await form.getByLabel('Output schema (JSON Schema)').fill(JSON.stringify(memoryAgent.output_schema));
    await form.getByLabel('Example inputs (JSON array)').fill('[{"action":"store","key":"k","value":"v"}]');
    await form.getByRole('button', { name: 'Register agent' }).click();
    const row = page.getByRole('row', { name: /notes/ });
    await row.getByText('$0.002').waitFor();

    await row.getByRole('button', { name: 'Try notes' }).click();
    await page.getByRole('button', { name: 'Create a test key' }).click();
    await page
      .getByLabel('Pay with key')
      .getByRole('option', { name: /Admin try-it key/ })
      .waitFor({ state: 'attached' });
    await page.getByRole('button', { name: 'Call agent' }).click();
    const result = page.getByRole('status').filter({ hasText: 'succeeded' });
    await result.getByText('"stored": true').or(result.getByText('"key": "k"')).first().waitFor();
    expect(await result.textContent()).toContain('Cost $0.003');
    await screenshot(page, '06-agents');
  });

  it('follows an async call live to its receipt, and lists calls', async () => {
    await page.getByRole('row', { name: /slow/ }).getByRole('button', { name: 'Try slow' }).click();
    await page.getByLabel('Input (JSON)').fill('{"delay_ms": 1500}');
    await page.getByLabel('Run in the background').check();
    await page.getByRole('button', { name: 'Call agent' }).click();
    await page.getByRole('status').getByText('queued', { exact: true }).waitFor();
    await page.getByRole('link', { name: /Open call/ }).click();
    await heading('Call');
    const status = page.getByTestId('call-status');
    await status.getByText('live').waitFor();
    await status.getByText('succeeded').waitFor();
    await page.getByRole('heading', { name: 'Output' }).waitFor();
    expect(await page.getByRole('list').last().textContent()).toMatch(/queued.*paying.*running.*succeeded/);
    await screenshot(page, '07-call');

    await page.getByRole('link', { name: '← All calls' }).click();
    await heading('Calls');
    await page.getByLabel('Status').selectOption('succeeded');
    await page.getByRole('row', { name: /slow/ }).first().waitFor();
    await screenshot(page, '08-calls');
  });

  it('shows usage, billing periods, meter delivery and the reconciliation', async () => {
    await page.getByRole('link', { name: 'Usage and billing' }).click();
    await heading('Usage and billing');
    await page.getByRole('region', { name: 'Usage by agent' }).getByRole('row', { name: /notes/ }).waitFor();
    await page
      .getByRole('region', { name: 'Usage by customer' })
      .getByRole('link', { name: alice.email })
      .waitFor();
    await page.getByRole('heading', { name: 'Billing periods' }).waitFor();
    await page.getByRole('button', { name: 'Check ledger, chain and Stripe' }).click();
    await page.getByText('Everything agrees').waitFor();
    await screenshot(page, '09-usage');
  });

  it('has an audit entry for each action, filterable', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await heading('Audit log');
    for (const action of [
      'auth.login',
      'user.updated',
      'key.revoked',
      'agent.registered',
      'key.created',
      'agent.tried',
    ]) {
      await page.getByRole('cell', { name: action, exact: true }).first().waitFor();
    }
    await page.getByLabel('Action').fill('key.');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('cell', { name: 'auth.login', exact: true }).first().waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'key.revoked', exact: true }).waitFor();
    await screenshot(page, '10-audit');
  });

  it('offers Resubscribe for an ended subscription, and says why it cannot while billing is offline', async () => {
    const carol = await newDeveloper(server, 'carol');
    // As `customer.subscription.deleted` records it (this server has no Stripe to send one).
    await server.tdk.database.db
      .insertInto('billing_account')
      .values({ user_id: carol.userId, stripe_subscription_id: 'sub_ended', subscription_status: 'canceled' })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ subscription_status: 'canceled' }))
      .execute();
    await open(`/customers/${carol.userId}`);
    await page.getByRole('heading', { name: carol.email }).waitFor();
    await page.getByText('canceled', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Resubscribe' }).click();
    const dialog = page.getByRole('dialog', { name: `Subscribe ${carol.email} again?` });
    await dialog.getByRole('button', { name: 'Resubscribe' }).click();
    await dialog.getByRole('alert').getByText('Stripe billing is not configured', { exact: false }).waitFor();
    await screenshot(page, '11-resubscribe');
  });
});
