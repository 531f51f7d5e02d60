import bs58 from 'bs58';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateKeypair } from '../keys';
import { type LocalRpcServer, startLocalRpcServer } from '../rpc-server/server';
import { buildUnsignedUsdcPayment, signSerializedTransaction } from '../sign';
import { describeSolanaPort, FEE, TOKEN_ACCOUNT_RENT } from '../testing/port-contract';
import { MAINNET_USDC_MINT } from '../transactions';
import { createRpcChain } from './chain';

const SOL = 1_000_000_000n;
const fast = { pollIntervalMs: 10, resendIntervalMs: 40 };

const servers: LocalRpcServer[] = [];
async function serve(options: Parameters<typeof startLocalRpcServer>[0] = {}) {
  const server = await startLocalRpcServer(options);
  servers.push(server);
  const chain = createRpcChain({
    url: server.url,
    network: 'localnet',
    usdcMint: server.chain.usdcMint,
    ...fast,
  });
  return { server, chain };
}
afterAll(() => Promise.all(servers.map((server) => server.close())));

describeSolanaPort('rpc', async () => {
  const { server, chain } = await serve();
  return { port: chain, fund: (owner, amounts) => server.chain.fund(owner, amounts) };
});

describe('rpc adapter', () => {
  let server: LocalRpcServer;
  let chain: ReturnType<typeof createRpcChain>;
  beforeAll(async () => {
    ({ server, chain } = await serve({ recordRequests: true }));
  });

  const sendsOf = (signature: string) =>
    server.requests.filter(
      ({ method, params }) => method === 'sendTransaction' && signatureOf(String(params[0])) === signature,
    );

  it('speaks Solana JSON-RPC: simulate, send once without preflight, poll, read the fee from the transaction', async () => {
    const payer = generateKeypair();
    const to = generateKeypair().publicKey;
    await server.chain.fund(payer.publicKey, { lamports: SOL, usdc: 1_000n });
    const from = server.requests.length;

    const { signature } = await chain.transferUsdc({ from: payer, transfers: [{ to, amount: 10n }] });
    await chain.balances(to);

    const requests = server.requests.slice(from);
    const methods = [...new Set(requests.map(({ method }) => method))];
    expect(methods).toEqual([
      'getLatestBlockhash',
      'simulateTransaction',
      'sendTransaction',
      'getSignatureStatuses',
      'getTransaction',
      'getMultipleAccounts',
    ]);
    const byMethod = (name: string) => requests.find(({ method }) => method === name)!.params;
    expect(byMethod('getLatestBlockhash')).toEqual([{ commitment: 'confirmed' }]);
    expect(byMethod('simulateTransaction')).toEqual([
      expect.any(String),
      expect.objectContaining({ encoding: 'base64', sigVerify: false, commitment: 'confirmed' }),
    ]);
    expect(byMethod('sendTransaction')).toEqual([
      expect.any(String),
      expect.objectContaining({ encoding: 'base64', skipPreflight: true, maxRetries: 0 }),
    ]);
    expect(byMethod('getSignatureStatuses')).toEqual([[signature], expect.anything()]);
    expect(byMethod('getTransaction')).toEqual([
      signature,
      expect.objectContaining({ commitment: 'confirmed', maxSupportedTransactionVersion: 0 }),
    ]);
    expect(byMethod('getMultipleAccounts')[0]).toHaveLength(2);
    expect(sendsOf(signature)).toHaveLength(1);
  });

  it('resends the same signed bytes when submissions are dropped, and the signature confirms', async () => {
    const payer = generateKeypair();
    const to = generateKeypair().publicKey;
    await server.chain.fund(payer.publicKey, { lamports: SOL });
    server.dropSubmissions(2);

    const movement = await chain.transferSol({ from: payer, to, lamports: 3_000_000n });

    const sends = sendsOf(movement.signature);
    expect(sends).toHaveLength(3);
    expect(new Set(sends.map(({ params }) => params[0])).size).toBe(1);
    expect(await chain.transactionStatus(movement.signature)).toBe('confirmed');
    expect(movement.lamportsSpent).toBe(3_000_000n + FEE);
    expect(await chain.balances(to)).toEqual({ lamports: 3_000_000n, usdc: 0n });
  });

  it('gives up with `expired` once the blockhash expires unconfirmed, and nothing moved', async () => {
    const payer = generateKeypair();
    const to = generateKeypair().publicKey;
    await server.chain.fund(payer.publicKey, { lamports: SOL });
    server.dropSubmissions(Number.POSITIVE_INFINITY);
    try {
      const from = server.requests.length;
      const transfer = chain.transferSol({ from: payer, to, lamports: 3_000_000n });
      const sent = await vi.waitFor(() => {
        const send = server.requests.slice(from).find(({ method }) => method === 'sendTransaction');
        expect(send).toBeDefined();
        return signatureOf(String(send!.params[0]));
      });
      server.advanceBlocks(151);

      await expect(transfer).rejects.toMatchObject({ name: 'ChainError', code: 'expired', signature: sent });
    } finally {
      server.dropSubmissions(0);
    }
    expect(await chain.balances(payer.publicKey)).toEqual({ lamports: SOL, usdc: 0n });
  });

  it('settles a payment signed elsewhere as its own: the same bytes resent while dropped, `expired` after its blockhash', async () => {
    const payer = generateKeypair();
    await server.chain.fund(payer.publicKey, { lamports: SOL, usdc: 1_000n });
    const signedPayment = async (memo: string) =>
      signSerializedTransaction(
        buildUnsignedUsdcPayment({
          payer: payer.publicKey,
          usdcMint: chain.usdcMint,
          transfers: [{ to: generateKeypair().publicKey, amount: 10n }],
          blockhash: (await chain.latestBlockhash()).blockhash,
          memo,
        }),
        payer,
      );

    const paid = await signedPayment('intent_1');
    server.dropSubmissions(1);
    const movement = await chain.submitSigned(paid.signedBase64);
    expect(sendsOf(paid.signature)).toHaveLength(2);
    expect(new Set(sendsOf(paid.signature).map(({ params }) => params[0])).size).toBe(1);
    expect(movement.lamportsSpent).toBe(FEE + TOKEN_ACCOUNT_RENT);

    const lost = await signedPayment('intent_2');
    server.dropSubmissions(Number.POSITIVE_INFINITY);
    try {
      const submitted = chain.submitSigned(lost.signedBase64);
      await vi.waitFor(() => expect(sendsOf(lost.signature)).not.toHaveLength(0));
      server.advanceBlocks(151);
      await expect(submitted).rejects.toMatchObject({ code: 'expired', signature: lost.signature });
    } finally {
      server.dropSubmissions(0);
    }
    expect(await chain.balances(payer.publicKey)).toEqual({
      lamports: SOL - movement.lamportsSpent,
      usdc: 990n,
    });
  });

  it('waits for `confirmed` when confirmation is slow', async () => {
    const { server: slow, chain: patient } = await serve({ confirmationDelayMs: 300 });
    const payer = generateKeypair();
    await slow.chain.fund(payer.publicKey, { lamports: SOL });
    const started = Date.now();
    const movement = await patient.transferSol({
      from: payer,
      to: generateKeypair().publicKey,
      lamports: 3_000_000n,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(movement.lamportsSpent).toBe(3_000_000n + FEE);
  });

  it('pays the priority fee asked for, and counts it', async () => {
    const priced = createRpcChain({
      url: server.url,
      network: 'localnet',
      usdcMint: server.chain.usdcMint,
      priorityFee: { microLamportsPerUnit: 1_000n, computeUnitLimit: 200_000 },
      ...fast,
    });
    const payer = generateKeypair();
    await server.chain.fund(payer.publicKey, { lamports: SOL });
    const movement = await priced.transferSol({
      from: payer,
      to: generateKeypair().publicKey,
      lamports: 3_000_000n,
    });
    // 200,000 units × 1,000 micro-lamports = 200 lamports.
    expect(movement.lamportsSpent).toBe(3_000_000n + FEE + 200n);
    expect((await priced.balances(payer.publicKey)).lamports).toBe(SOL - movement.lamportsSpent);
  });

  it('is `unreachable` when nothing answers', async () => {
    const down = await startLocalRpcServer();
    await down.close();
    const lost = createRpcChain({
      url: down.url,
      network: 'localnet',
      usdcMint: down.chain.usdcMint,
      ...fast,
    });
    await expect(lost.ping()).rejects.toMatchObject({ name: 'ChainError', code: 'unreachable' });
    await expect(lost.balances(generateKeypair().publicKey)).rejects.toMatchObject({ code: 'unreachable' });
  });

  it('uses mainnet USDC on mainnet-beta, and needs a mint elsewhere', () => {
    expect(createRpcChain({ url: 'http://127.0.0.1:1', network: 'mainnet-beta' }).usdcMint).toBe(
      MAINNET_USDC_MINT,
    );
    expect(() => createRpcChain({ url: 'http://127.0.0.1:1', network: 'devnet' })).toThrow(TypeError);
  });
});

/** The first signature of a base64 wire transaction (after its one-byte signature count). */
function signatureOf(base64: string): string {
  return bs58.encode(Buffer.from(base64, 'base64').subarray(1, 65));
}
