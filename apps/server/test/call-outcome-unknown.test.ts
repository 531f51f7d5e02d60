import { walletOfKind } from '@tdk/api';
import { type LocalRpcServer, startLocalRpcServer } from '@tdk/chain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { newDeveloper } from './support/customers';
import { jsonClient } from './support/http';

describe('a payment whose outcome the chain stops telling', () => {
  let rpc: LocalRpcServer;
  let server: TestServer;
  beforeAll(async () => {
    rpc = await startLocalRpcServer({ recordRequests: true });
    server = await startTestServer('pglite-memory', {
      SOLANA_RPC_URL: rpc.url,
      SOLANA_NETWORK: 'localnet',
      SOLANA_USDC_MINT: rpc.chain.usdcMint,
      TDK_EXAMPLE_AGENTS: 'true',
    });
    const treasury = await walletOfKind(server.tdk.database.db, 'treasury');
    await rpc.chain.fund(treasury!.public_key, { lamports: 10_000_000_000n, usdc: 1_000_000_000n });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('keeps the call open and replays "outcome unknown" to retries: never a second payment', async () => {
    const dev = await newDeveloper(server);
    const api = jsonClient(server.url);
    const body = { agent_id: 'memory', input: { action: 'list' } };
    const headers = { 'idempotency-key': 'unknown-outcome-1' };
    // The first submission is acknowledged but never lands; then the chain goes away mid-confirmation.
    const sends = () => rpc.requests.filter((r) => r.method === 'sendTransaction').length;
    const sentBefore = sends();
    rpc.dropSubmissions(1);
    const pending = api('POST', '/api/tdk/v1/call', { token: dev.apiKey, body, headers });
    while (sends() === sentBefore) await new Promise((resolve) => setTimeout(resolve, 5));
    await rpc.close();
    const first = await pending;
    expect(first.status, JSON.stringify(first.body)).toBe(503);
    expect(first.body.error.details).toMatchObject({ outcome: 'unknown', tx_signature: expect.any(String) });

    const retry = await api('POST', '/api/tdk/v1/call', { token: dev.apiKey, body, headers });
    expect(retry.status).toBe(503);
    expect(retry.body.error.details).toEqual(first.body.error.details);
    const row = await server.tdk.database.db
      .selectFrom('call')
      .select(['status', 'tx_signature'])
      .where('id', '=', first.body.error.details.call_id)
      .executeTakeFirstOrThrow();
    // Still `running`: a payment may exist, so nothing may close it as unpaid.
    expect(row).toEqual({ status: 'running', tx_signature: first.body.error.details.tx_signature });
  });
});
