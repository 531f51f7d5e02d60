import { randomUUID } from 'node:crypto';
import { type AgentServer, memoryAgent, startAgentServer } from '@tdk/agents';
import { reconcileBalances, recoverCalls, walletOfKind } from '@tdk/api';
import { createRpcChain, generateKeypair, type LocalRpcServer, startLocalRpcServer } from '@tdk/chain';
import type { AgentListing } from '@tdk/core';
import { startTettoStandIn, type TettoStandIn } from '@tdk/marketplace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { startTestServer, type TestServer } from '../src/testing';
import { newDeveloper } from './support/customers';
import { jsonClient } from './support/http';
import { until } from './support/processes';

describe('TETTO_API_URL picks the Tetto platform', () => {
  const tetto = (env: Record<string, string>) =>
    loadConfig({ DATABASE_URL: 'memory:', TETTO_API_URL: 'https://tetto.example', ...env }).marketplace;
  const rpc = { SOLANA_RPC_URL: 'https://rpc.example' };

  it('defaults to the local marketplace', () => {
    expect(loadConfig({ DATABASE_URL: 'memory:' }).marketplace).toMatchObject({
      tetto: undefined,
      exampleAgents: true,
    });
  });

  it("defaults Tetto's protocol wallet by network, and runs no example agents", () => {
    expect(tetto({ ...rpc, SOLANA_NETWORK: 'mainnet-beta' })).toMatchObject({
      protocolWallet: undefined,
      exampleAgents: false,
      tetto: {
        apiUrl: 'https://tetto.example',
        protocolWallet: 'CYSnefexbvrRU6VxzGfvZqKYM4UixupvDeZg3sUSWm84',
      },
    });
    expect(tetto({ ...rpc, SOLANA_NETWORK: 'devnet' }).tetto?.protocolWallet).toBe(
      'BubFsAG8cSEH7NkLpZijctRpsZkCiaWqCdRfh8kUpXEt',
    );
    const own = generateKeypair().publicKey;
    expect(tetto({ ...rpc, TETTO_PROTOCOL_WALLET: own }).tetto?.protocolWallet).toBe(own);
  });

  it('needs TETTO_PROTOCOL_WALLET where Tetto has none (localnet, the embedded chain)', () => {
    expect(() => tetto({ ...rpc, SOLANA_NETWORK: 'localnet' })).toThrow(ConfigError);
    expect(() => tetto({})).toThrow(/TETTO_PROTOCOL_WALLET: required/);
  });
});

describe('a paid call through the Tetto platform adapter', () => {
  // One local chain behind JSON-RPC: TDK (RPC adapter) and the stand-in platform both use it.
  let rpc: LocalRpcServer;
  let agents: AgentServer;
  let standIn: TettoStandIn;
  let server: TestServer;
  let memory: AgentListing;
  const protocolWallet = generateKeypair().publicKey;

  beforeAll(async () => {
    rpc = await startLocalRpcServer();
    agents = await startAgentServer();
    memory = {
      id: randomUUID(),
      name: memoryAgent.name,
      description: memoryAgent.description,
      endpoint_url: agents.agents.memory,
      price_display: memoryAgent.priceDisplay,
      price_base: memoryAgent.priceBase,
      token: 'USDC',
      token_mint: rpc.chain.usdcMint,
      token_decimals: 6,
      input_schema: memoryAgent.inputSchema,
      output_schema: memoryAgent.outputSchema,
      owner_wallet: generateKeypair().publicKey,
      fee_bps: 1000,
      status: 'active',
      agent_type: 'simple',
      example_inputs: memoryAgent.exampleInputs,
    };
    standIn = await startTettoStandIn({
      chain: createRpcChain({
        url: rpc.url,
        network: 'localnet',
        usdcMint: rpc.chain.usdcMint,
        pollIntervalMs: 10,
      }),
      agents: [memory],
      protocolWallet,
    });
    server = await startTestServer('pglite-memory', {
      SOLANA_RPC_URL: rpc.url,
      SOLANA_NETWORK: 'localnet',
      SOLANA_USDC_MINT: rpc.chain.usdcMint,
      TETTO_API_URL: standIn.url,
      TETTO_PROTOCOL_WALLET: protocolWallet,
    });
    const treasury = await walletOfKind(server.tdk.database.db, 'treasury');
    await rpc.chain.fund(treasury!.public_key, { lamports: 10_000_000_000n, usdc: 1_000_000_000n });
  });
  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
    await agents?.close();
    await rpc?.close();
  });

  it('pays the agent through the platform from the key’s wallet, and the ledger agrees with the chain', async () => {
    expect(server.tdk.services.marketplace.kind).toBe('tetto');
    const dev = await newDeveloper(server);
    const [ownerBefore, protocolBefore] = await Promise.all(
      [memory.owner_wallet, protocolWallet].map((wallet) => rpc.chain.balances(wallet)),
    );

    const called = await jsonClient(server.url)('POST', '/api/tdk/v1/call', {
      token: dev.apiKey,
      body: { agent_id: 'memory', input: { action: 'store', key: 'greeting', value: 'hello' } },
    });

    expect(called.status, JSON.stringify(called.body)).toBe(200);
    expect(called.body).toMatchObject({
      agent_id: memory.id,
      status: 'succeeded',
      output: { ok: true, key: 'greeting' },
      cost: { agent: 1000, total: 1500 },
      payment: { network: 'localnet' },
      receipt_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const [ownerAfter, protocolAfter] = await Promise.all(
      [memory.owner_wallet, protocolWallet].map((wallet) => rpc.chain.balances(wallet)),
    );
    expect(ownerAfter!.usdc - ownerBefore!.usdc).toBe(900n);
    expect(protocolAfter!.usdc - protocolBefore!.usdc).toBe(100n);
    // The payment's SOL cost came from the landed transaction (lamportsSpentOf over RPC): to the lamport.
    const { differences } = await reconcileBalances(server.tdk.services);
    expect(differences.filter(({ wallet_id }) => wallet_id === dev.walletId)).toEqual([]);
  });
  it('never pays again while a refused payment may still land; recovery settles it, and the retry pays once', async () => {
    // Wallets start with less than a call costs, and are refilled below 1,000 to 5,000.
    const short = await startTestServer('pglite-memory', {
      SOLANA_RPC_URL: rpc.url,
      SOLANA_NETWORK: 'localnet',
      SOLANA_USDC_MINT: rpc.chain.usdcMint,
      TETTO_API_URL: standIn.url,
      TETTO_PROTOCOL_WALLET: protocolWallet,
      TDK_TIERS: JSON.stringify({
        free: {
          initialFunding: { usdc: '500', lamports: '50000000' },
          usdcTopUp: { below: '1000', to: '5000' },
        },
      }),
    });
    try {
      const treasury = await walletOfKind(short.tdk.database.db, 'treasury');
      await rpc.chain.fund(treasury!.public_key, { lamports: 10_000_000_000n, usdc: 1_000_000_000n });
      const dev = await newDeveloper(short);
      const call = () =>
        jsonClient(short.url)('POST', '/api/tdk/v1/call', {
          token: dev.apiKey,
          body: { agent_id: 'memory', input: { action: 'list' } },
          headers: { 'idempotency-key': 'short-1' },
        });
      // Tetto answered 402 and the chain has not seen the payment: it may still land, so no second one.
      const first = await call();
      expect(first.status, JSON.stringify(first.body)).toBe(503);
      expect(first.body.error.details).toMatchObject({ outcome: 'unknown' });
      const replayed = await call();
      expect(replayed.status).toBe(503);
      expect(replayed.body.error.details).toEqual(first.body.error.details);
      const { db } = short.tdk.database;
      const payments = () =>
        db
          .selectFrom('chain_intent')
          .select('status')
          .where('wallet_id', '=', dev.walletId)
          .where('kind', '=', 'agent_payment')
          .execute();
      expect((await payments()).map((p) => p.status)).toEqual(['pending']);

      // Recovery settles it as never landed; the retry, on a refilled wallet, pays once.
      await recoverCalls(short.tdk.services, 0);
      expect((await payments()).map((p) => p.status)).toEqual(['dropped']);
      const retried = await call();
      expect(retried.status, JSON.stringify(retried.body)).toBe(200);
      expect((await payments()).map((p) => p.status).sort()).toEqual(['booked', 'dropped']);
      // The refill runs in the background: the ledger agrees with the chain once it is booked.
      const refills = () =>
        db
          .selectFrom('ledger_movement')
          .select('id')
          .where('wallet_id', '=', dev.walletId)
          .where('kind', '=', 'top_up')
          .execute();
      await until('the refill booked', async () => (await refills()).length === 1);
      const { differences } = await reconcileBalances(short.tdk.services);
      expect(differences.filter(({ wallet_id }) => wallet_id === dev.walletId)).toEqual([]);
    } finally {
      await short.stop();
    }
  });
});
