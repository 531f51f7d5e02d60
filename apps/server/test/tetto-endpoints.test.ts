import { randomUUID } from 'node:crypto';
import { type EmbeddedChain, generateKeypair, startLocalRpcServer } from '@tdk/chain';
import type { AgentListing, MarketplacePort } from '@tdk/core';
import { createTettoPlatformMarketplace, type LocalMarketplace } from '@tdk/marketplace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { rpcChainEnv } from './support/chain';
import { jsonClient } from './support/http';

const SOL = 1_000_000_000n;

describe('the Tetto-shaped endpoints TDK serves for its local marketplace', () => {
  let server: TestServer;
  let chain: EmbeddedChain;
  let protocolWallet: string;
  let tetto: MarketplacePort;
  let api: ReturnType<typeof jsonClient>;
  beforeAll(async () => {
    server = await startTestServer('pglite-memory', { TDK_MAX_BODY_BYTES: '4096' });
    chain = server.tdk.services.chain as EmbeddedChain;
    protocolWallet = (server.tdk.services.marketplace as LocalMarketplace).protocolWallet;
    // A Tetto client, pointed at TDK as it would be at the Tetto platform.
    tetto = createTettoPlatformMarketplace({ baseUrl: server.url, protocolWallet, chain });
    api = jsonClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function fundedPayer() {
    const payer = generateKeypair();
    await chain.fund(payer.publicKey, { lamports: SOL, usdc: 1_000_000n });
    return payer;
  }

  it('lets a Tetto client pay the memory agent from its own wallet, get its output and a receipt', async () => {
    const agents = await tetto.listAgents();
    expect(agents.map(({ name }) => name)).toEqual(['answers', 'memory']);
    const memory = agents.find(({ name }) => name === 'memory') as AgentListing;
    expect(await tetto.getAgent(memory.id)).toEqual(memory);
    expect(memory).toMatchObject({ price_base: 1_000n, fee_bps: 1000, token_mint: chain.usdcMint });

    const payer = await fundedPayer();
    const wallets = [payer.publicKey, memory.owner_wallet, protocolWallet];
    const before = await Promise.all(wallets.map((wallet) => chain.balances(wallet)));
    const stored = await tetto.callAgent({
      agent: memory,
      input: { action: 'store', key: 'greeting', value: 'hello' },
      payer,
      intentId: 'ignored on the wire',
    });
    const after = await Promise.all(wallets.map((wallet) => chain.balances(wallet)));

    expect(stored.output).toMatchObject({ ok: true, key: 'greeting' });
    const [payerDrop, ownerGain, protocolGain] = after.map((b, i) => b.usdc - before[i]!.usdc);
    expect([payerDrop, ownerGain, protocolGain]).toEqual([-1_000n, 900n, 100n]);
    expect(before[0]!.lamports - after[0]!.lamports).toBe(stored.payment.lamportsSpent);
    expect(stored.payment).toMatchObject({ agentReceived: 900n, protocolFee: 100n, protocolWallet });

    const receipt = await api('GET', `/api/receipts/${stored.receiptId}`);
    expect(receipt.body).toEqual({
      ok: true,
      receipt: expect.objectContaining({
        agent_id: memory.id,
        caller_wallet: payer.publicKey,
        tx_signature: stored.payment.signature,
        amount: 1_000,
        agent_received: 900,
        protocol_fee: 100,
        status: 'completed',
      }),
    });
    // The agent saw the payer as its caller: the memory is the payer's own.
    const retrieved = await tetto.callAgent({
      agent: memory,
      input: { action: 'retrieve', key: 'greeting' },
      payer,
      intentId: 'ignored on the wire',
    });
    expect(retrieved.output).toEqual({ found: true, key: 'greeting', value: 'hello' });
  });

  it('checks the input before building a payment, and answers every refusal as { ok: false, error }', async () => {
    const memory = (await tetto.getAgent('memory')) as AgentListing;
    const payer = generateKeypair().publicKey;
    const build = (body: unknown) => api('POST', `/api/agents/${memory.id}/build-transaction`, { body });

    const refusals = [
      [await build({ payer_wallet: payer, input: { action: 'fly' } }), 400, /^Input validation failed/],
      [await build({ input: { action: 'list' } }), 400, /payer_wallet is required/],
      [await build({ payer_wallet: 'nobody', input: { action: 'list' } }), 400, /Invalid payer_wallet/],
      [await api('GET', `/api/agents/${randomUUID()}`), 404, /Agent not found/],
      [await api('GET', '/api/receipts/none'), 404, /Receipt not found/],
      [await api('POST', '/api/agents/call', { body: { payment_intent_id: 'none' } }), 404, /not found/],
      // Text the database could not hold is refused as such, never asked for.
      [await api('POST', '/api/agents/call', { body: { payment_intent_id: 'a\u0000b' } }), 400, /NUL/],
      [await api('GET', '/api/receipts/a%00b'), 404, /Receipt not found/],
      [await api('POST', '/api/agents/call', { body: 'x'.repeat(5_000) }), 413, /too large/],
    ] as const;
    for (const [answer, status, error] of refusals) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(status);
      expect(answer.body).toEqual({ ok: false, error: expect.stringMatching(error) });
    }
    const malformed = await fetch(`${server.url}/api/agents/call`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"payment_intent_id":',
    });
    expect([malformed.status, await malformed.json()]).toEqual([400, { ok: false, error: 'Malformed JSON' }]);
    expect(server.rawLogs()).not.toMatch(/"stack"/);
  });

  it('leaves the rest of /api to TDK, and labels the routes by template', async () => {
    expect((await api('GET', '/api/tdk/info')).status).toBe(200);
    const unknown = await api('GET', '/api/agentsx');
    expect([unknown.status, unknown.body.error?.code]).toEqual([404, 'not_found']);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/route="\/api\/agents\/\{id\}\/build-transaction",status="400"/);
    expect(metrics).toMatch(/route="\/api\/receipts\/\{id\}"/);
  });
});

describe('the public Tetto endpoints', () => {
  it('are limited per client IP, answering in the Tetto envelope', async () => {
    const server = await startTestServer('pglite-memory', { TDK_TETTO_REQUESTS_PER_MINUTE: '3' });
    try {
      const api = jsonClient(server.url);
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await api('GET', '/api/agents')).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = await api('GET', '/api/agents');
      expect(limited.body).toEqual({ ok: false, error: expect.stringMatching(/^Too many requests/) });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      // TDK's own API is not counted against it.
      expect((await api('GET', '/api/tdk/info')).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});

describe('the Tetto-shaped endpoints on two server processes', () => {
  it('builds a payment on one, calls with it on the other, and serves the receipt from both', async () => {
    // Two processes of one deployment: one database, one chain (the RPC adapter on a local node).
    const rpc = await startLocalRpcServer();
    const first = await startTestServer('pglite-memory', rpcChainEnv(rpc));
    const second = await startTestServer(
      'pglite-memory',
      { ...rpcChainEnv(rpc), TDK_EXAMPLE_AGENTS: 'false' },
      { shareDatabaseWith: first },
    );
    try {
      // A load balancer that sends the call to the process that did not build the payment.
      let beforeCall: (() => Promise<unknown>) | undefined;
      const split: typeof fetch = async (url, init) => {
        if (!String(url).endsWith('/api/agents/call')) return fetch(url, init);
        await beforeCall?.();
        return fetch(String(url).replace(first.url, second.url), init);
      };
      const tetto = createTettoPlatformMarketplace({
        baseUrl: first.url,
        protocolWallet: (first.tdk.services.marketplace as LocalMarketplace).protocolWallet,
        chain: first.tdk.services.chain,
        fetch: split,
      });
      const memory = (await tetto.listAgents()).find(({ name }) => name === 'memory') as AgentListing;
      const payer = generateKeypair();
      await rpc.chain.fund(payer.publicKey, { lamports: SOL, usdc: 1_000_000n });
      const stored = await tetto.callAgent({
        agent: memory,
        input: { action: 'store', key: 'k', value: 'v' },
        payer,
        intentId: 'ignored on the wire',
      });
      expect(stored.output).toMatchObject({ ok: true, key: 'k' });
      for (const server of [first, second]) {
        const receipt = await jsonClient(server.url)('GET', `/api/receipts/${stored.receiptId}`);
        expect(receipt.body.receipt).toMatchObject({
          tx_signature: stored.payment.signature,
          caller_wallet: payer.publicKey,
          status: 'completed',
        });
      }

      // The price changed between the build and the call: refused before anything is paid.
      await new Promise((resolve) => setTimeout(resolve, 1_100)); // the listing cache's second
      beforeCall = () =>
        first.tdk.database.db
          .updateTable('agent')
          .set({ price_base: '2000' })
          .where('id', '=', memory.id)
          .execute();
      const before = await rpc.chain.balances(payer.publicKey);
      await expect(
        tetto.callAgent({ agent: memory, input: { action: 'list' }, payer, intentId: 'ignored on the wire' }),
      ).rejects.toThrow(/price changed/);
      expect(await rpc.chain.balances(payer.publicKey)).toEqual(before);
    } finally {
      await second.stop();
      await first.stop();
      await rpc.close();
    }
  });
});
