import { testDatabaseKinds } from '@tdk/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { adminSession, newDeveloper } from './support/customers';
import { jsonClient } from './support/http';
import { countMovements } from './support/ledger';
import { until } from './support/processes';

/** A memory call: 1,500 USDC base units on the free tier here, so a cap of 3,000 holds two. */
const list = { agent_id: 'memory', input: { action: 'list' } };

describe.each(testDatabaseKinds)('managing API keys on %s', (kind) => {
  let server: TestServer;
  let api: ReturnType<typeof jsonClient>;
  beforeAll(async () => {
    server = await startTestServer(kind);
    api = jsonClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('holds a key to the cap it was created with, and to the cap it is given later', async () => {
    const dev = await newDeveloper(server);
    const created = await api('POST', '/api/tdk/keys/generate', {
      token: dev.session,
      body: { name: 'ci', monthly_spend_cap: 3000 },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect(created.body.key).toMatchObject({ name: 'ci', monthly_spend_cap: 3000 });
    const capped = { id: created.body.key.id as string, secret: created.body.secret as string };
    const call = () => api('POST', '/api/tdk/v1/call', { token: capped.secret, body: list });

    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(200);
    const over = await call();
    expect(over.status).toBe(402);
    expect(over.body.error).toMatchObject({
      code: 'spend_cap_exceeded',
      details: { monthly_spend_cap: '3000' },
    });
    expect(await countMovements(server, created.body.key.wallet.id)).toBe(2);
    const usage = await api('GET', '/api/tdk/usage/current', { token: capped.secret });
    expect(usage.body).toMatchObject({
      limits: { monthly_spend_cap: 3000 },
      spend: { this_month: 3000, remaining: 0 },
    });
    // The account's other key keeps its tier's cap.
    expect((await api('POST', '/api/tdk/v1/call', { token: dev.apiKey, body: list })).status).toBe(200);

    const update = (body: Record<string, unknown>) =>
      api('PATCH', `/api/tdk/keys/${capped.id}`, { token: dev.session, body });
    const raised = await update({ monthly_spend_cap: 4500 });
    expect(raised.status, JSON.stringify(raised.body)).toBe(200);
    expect(raised.body).toMatchObject({ id: capped.id, name: 'ci', monthly_spend_cap: 4500 });
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(402);

    // Lowered under what the month has spent already: nothing more, and nothing left.
    expect((await update({ monthly_spend_cap: 1000 })).status).toBe(200);
    expect((await call()).status).toBe(402);
    const lowered = await api('GET', '/api/tdk/usage/current', { token: capped.secret });
    expect(lowered.body.spend).toMatchObject({ this_month: 4500, remaining: 0 });

    // Removed: the tier's cap alone ($10 on the free tier).
    const removed = await update({ monthly_spend_cap: null });
    expect(removed.body.monthly_spend_cap).toBeNull();
    expect((await call()).status).toBe(200);
    const tierOnly = await api('GET', '/api/tdk/usage/current', { token: capped.secret });
    expect(tierOnly.body.limits.monthly_spend_cap).toBe(10_000_000);
  });

  it("pages the account's keys newest first, filters them by status, and reads one by id", async () => {
    // Paid: room for this many keys and account requests in a minute.
    const dev = await newDeveloper(server, { tier: 'paid' });
    const made = [dev.keyId];
    for (let i = 0; i < 4; i++) {
      const key = await api('POST', '/api/tdk/keys/generate', {
        token: dev.session,
        body: { name: `k${i}` },
      });
      made.unshift(key.body.key.id);
    }
    await api('POST', `/api/tdk/keys/${made[1]}/revoke`, { token: dev.session });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await api('GET', `/api/tdk/keys${query}`, { token: dev.session });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((k: { id: string }) => k.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(made);
    const revoked = await api('GET', '/api/tdk/keys?status=revoked', { token: dev.session });
    expect(revoked.body).toEqual({ items: [expect.objectContaining({ id: made[1] })], next_cursor: null });

    const one = await api('GET', `/api/tdk/keys/${made[0]}`, { token: dev.session });
    expect(one.body).toMatchObject({ id: made[0], name: 'k3', status: 'active', monthly_spend_cap: null });
    expect((await api('GET', '/api/tdk/keys/key_nope', { token: dev.session })).status).toBe(404);
  });

  it('stops a key at its expiry, to the second, and lets its owner extend it', async () => {
    const dev = await newDeveloper(server, { tier: 'paid' });
    const inThePast = await api('POST', '/api/tdk/keys/generate', {
      token: dev.session,
      body: { expires_at: '2020-01-01T00:00:00Z' },
    });
    expect([inThePast.status, inThePast.body.error.code]).toEqual([400, 'invalid_input']);
    const soon = new Date(Date.now() + 1_500).toISOString();
    const created = await api('POST', '/api/tdk/keys/generate', {
      token: dev.session,
      body: { name: 'demo', expires_at: soon },
    });
    expect(created.body.key).toMatchObject({ name: 'demo', expires_at: soon });
    const secret = created.body.secret as string;
    const call = () => api('POST', '/api/tdk/v1/call', { token: secret, body: list });
    expect((await call()).status).toBe(200);

    await until('the key expired', async () => (await call()).status === 401);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(soon));
    const expired = await call();
    expect(expired.body.error.code).toBe('api_key_expired');
    expect(expired.body.error.message).toContain(soon);
    expect((await api('GET', '/api/tdk/usage/current', { token: secret })).status).toBe(401);
    // Its owner sees it expired, apart from the active keys.
    const keyId = created.body.key.id as string;
    const inStatus = async (status: string) =>
      (await api('GET', `/api/tdk/keys?status=${status}`, { token: dev.session })).body.items.map(
        (k: { id: string }) => k.id,
      );
    expect(await inStatus('expired')).toEqual([keyId]);
    expect(await inStatus('active')).toEqual([dev.keyId]);
    expect((await api('GET', `/api/tdk/keys/${keyId}`, { token: dev.session })).body.status).toBe('expired');

    const extended = await api('PATCH', `/api/tdk/keys/${created.body.key.id}`, {
      token: dev.session,
      body: { expires_at: null },
    });
    expect(extended.body).toMatchObject({ status: 'active', expires_at: null });
    expect((await call()).status).toBe(200);
    const audit = await api(
      'GET',
      `/api/tdk/admin/audit?target_id=${created.body.key.id}&action=key.updated`,
      {
        token: await adminSession(server),
      },
    );
    expect(audit.body.items[0].details).toEqual({ changes: { expires_at: { from: soon, to: null } } });
  });

  it('renames a key, refuses bad values with 400, and audits each change', async () => {
    // Paid: its account requests per minute leave room for this many changes.
    const dev = await newDeveloper(server, { tier: 'paid' });
    const update = (body: Record<string, unknown>) =>
      api('PATCH', `/api/tdk/keys/${dev.keyId}`, { token: dev.session, body });
    for (const body of [
      { monthly_spend_cap: -1 },
      { monthly_spend_cap: 1.5 },
      { monthly_spend_cap: 'a lot' },
      // JSON keeps its types: nothing that merely converts to a number is one.
      { monthly_spend_cap: true },
      { monthly_spend_cap: '5000' },
      { monthly_spend_cap: '' },
      { monthly_spend_cap: [] },
      // A misspelled setting is refused, never ignored: no cap would be set.
      { monthly_spend_limit: 5_000_000 },
      { name: '' },
      { name: 'x'.repeat(101) },
      { expires_at: 'tomorrow' },
      { expires_at: '2020-01-01T00:00:00Z' },
    ]) {
      const refused = await update(body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body.error.code).toBe('invalid_input');
    }
    for (const body of [{ monthly_spend_cap: -5 }, { nmae: 'typo' }]) {
      const refusedAtCreation = await api('POST', '/api/tdk/keys/generate', { token: dev.session, body });
      expect(refusedAtCreation.status, JSON.stringify(body)).toBe(400);
    }

    const renamed = await update({ name: 'production' });
    expect(renamed.body).toMatchObject({ name: 'production', monthly_spend_cap: null });
    expect((await update({ name: 'production' })).status).toBe(200);
    await update({ monthly_spend_cap: 2_000_000 });
    const keys = await api('GET', '/api/tdk/keys', { token: dev.session });
    expect(keys.body.items.find((k: { id: string }) => k.id === dev.keyId)).toMatchObject({
      name: 'production',
      monthly_spend_cap: 2_000_000,
    });

    const audit = await api('GET', `/api/tdk/admin/audit?target_id=${dev.keyId}&action=key.updated`, {
      token: await adminSession(server),
    });
    expect(audit.body.items.map((e: { details: unknown }) => e.details).reverse()).toEqual([
      { changes: { name: { from: 'test key', to: 'production' } } },
      { changes: { monthly_spend_cap: { from: null, to: 2_000_000 } } },
    ]);
    // An API key cannot change keys: that takes a signed-in session.
    const withKey = await api('PATCH', `/api/tdk/keys/${dev.keyId}`, {
      token: dev.apiKey,
      body: { monthly_spend_cap: null },
    });
    expect(withKey.status).toBe(401);
  });
});
