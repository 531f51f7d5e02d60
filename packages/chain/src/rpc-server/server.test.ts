import { SystemProgram } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeypair, toKeypair } from '../keys';
import { createRpcChain } from '../rpc/chain';
import { FEE } from '../testing/port-contract';
import { type Blockhash, signTransaction } from '../transactions';
import { type LocalRpcServer, startLocalRpcServer } from './server';

describe('local JSON-RPC server', () => {
  let server: LocalRpcServer;
  beforeAll(async () => {
    server = await startLocalRpcServer();
  });
  afterAll(() => server.close());

  async function call<Result = unknown>(method: string, params: unknown[] = []) {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'x1', method, params }),
    });
    return (await response.json()) as { jsonrpc: string; id: unknown; result?: Result; error?: unknown };
  }

  /** A signed transfer the payer cannot afford (it has 1,000,000 lamports), base64. */
  async function unaffordableTransfer() {
    const payer = generateKeypair();
    await server.chain.fund(payer.publicKey, { lamports: 1_000_000n });
    const { result } = await call<{ value: Blockhash }>('getLatestBlockhash', [{ commitment: 'confirmed' }]);
    const transfer = SystemProgram.transfer({
      fromPubkey: toKeypair(payer).publicKey,
      toPubkey: toKeypair(generateKeypair()).publicKey,
      lamports: 5_000_000n,
    });
    const signed = signTransaction([transfer], [toKeypair(payer)], result!.value.blockhash);
    return { payer, signature: signed.signature, encoded: Buffer.from(signed.bytes).toString('base64') };
  }

  it('answers in the JSON-RPC 2.0 envelope, with the context slot', async () => {
    const answer = await call<{ value: Blockhash }>('getLatestBlockhash', [{ commitment: 'confirmed' }]);
    expect(answer).toEqual({
      jsonrpc: '2.0',
      id: 'x1',
      result: {
        context: { slot: expect.any(Number) },
        value: { blockhash: expect.any(String), lastValidBlockHeight: expect.any(Number) },
      },
    });
    const { result: height } = await call<number>('getBlockHeight');
    expect(answer.result!.value.lastValidBlockHeight - height!).toBe(150);
    expect(await call('getHealth')).toMatchObject({ result: 'ok' });
    expect(await call('getBalance', [generateKeypair().publicKey])).toMatchObject({ result: { value: 0 } });
  });

  it('refuses, with preflight, what would fail: error -32002 carrying the transaction error', async () => {
    const { payer, encoded } = await unaffordableTransfer();
    const answer = await call('sendTransaction', [encoded, { encoding: 'base64' }]);
    expect(answer.error).toMatchObject({
      code: -32002,
      data: { err: { InstructionError: [0, { Custom: 1 }] }, logs: expect.any(Array) },
    });
    expect(await call('getBalance', [payer.publicKey])).toMatchObject({ result: { value: 1_000_000 } });
  });

  it('lands, without preflight, what fails in execution: failed, fee charged, fee in getTransaction', async () => {
    const { payer, signature, encoded } = await unaffordableTransfer();
    expect(
      await call('sendTransaction', [encoded, { encoding: 'base64', skipPreflight: true }]),
    ).toMatchObject({
      result: signature,
    });

    const { result } = await call<{ meta: unknown }>('getTransaction', [
      signature,
      { commitment: 'confirmed' },
    ]);
    expect(result!.meta).toMatchObject({
      err: { InstructionError: [0, { Custom: 1 }] },
      fee: Number(FEE),
      preBalances: [1_000_000, 0, 1],
      postBalances: [1_000_000 - Number(FEE), 0, 1],
    });
    const chain = createRpcChain({ url: server.url, network: 'localnet', usdcMint: server.chain.usdcMint });
    expect(await chain.transactionStatus(signature)).toBe('failed');
    expect((await chain.balances(payer.publicKey)).lamports).toBe(1_000_000n - FEE);
  });

  it('reports unknown methods, bad params and malformed JSON as JSON-RPC errors', async () => {
    expect((await call('getBlock', [1])).error).toMatchObject({ code: -32601 });
    expect((await call('getBalance', ['nope'])).error).toMatchObject({ code: -32602 });
    expect((await call('sendTransaction', ['AAAA', { encoding: 'base58' }])).error).toMatchObject({
      code: -32602,
    });
    const response = await fetch(server.url, { method: 'POST', body: '{' });
    expect(await response.json()).toMatchObject({ error: { code: -32700 } });
  });
});
