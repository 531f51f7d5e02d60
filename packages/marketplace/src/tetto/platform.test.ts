import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { createEmbeddedChain, type EmbeddedChain, generateKeypair } from '@tdk/chain';
import {
  type AgentListing,
  AppError,
  ChainError,
  type MarketplacePort,
  PaidCallError,
  type TettoContext,
  type UsdcTransfer,
} from '@tdk/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTettoPlatformMarketplace } from './platform';
import { startTettoStandIn, type TettoStandIn } from './standin';

/** Solana's network fee per signature, and the rent a new token account (165 bytes) holds. */
const FEE = 5_000n;
const TOKEN_ACCOUNT_RENT = 2_039_280n;

describe('the Tetto platform adapter, against the stand-in on the embedded chain', () => {
  let chain: EmbeddedChain;
  let agentServer: Server;
  let standIn: TettoStandIn;
  let tetto: MarketplacePort;
  let echo: AgentListing;
  const owner = generateKeypair().publicKey;
  const protocolWallet = generateKeypair().publicKey;
  /** What the agent received, call by call. */
  const agentCalls: Array<{ input: { text: string; fail?: boolean }; tetto_context: TettoContext }> = [];

  beforeAll(async () => {
    chain = await createEmbeddedChain();
    // A tiny agent: echoes its input and context, or fails when asked to.
    agentServer = createServer(async (req, res) => {
      const call = JSON.parse(await text(req));
      agentCalls.push(call);
      const [status, body] = call.input.fail ? [500, { error: 'the agent broke' }] : [200, call];
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => agentServer.listen(0, '127.0.0.1', resolve));
    echo = {
      id: randomUUID(),
      name: 'Echo',
      description: 'Echoes its input and the Tetto context.',
      endpoint_url: `http://127.0.0.1:${(agentServer.address() as AddressInfo).port}/`,
      price_display: '$0.01',
      price_base: 10_000n,
      token: 'USDC',
      token_mint: chain.usdcMint,
      token_decimals: 6,
      input_schema: {
        type: 'object',
        required: ['text'],
        properties: { text: { type: 'string' }, fail: { type: 'boolean' } },
      },
      output_schema: { type: 'object' },
      owner_wallet: owner,
      fee_bps: 1000,
      status: 'active',
      agent_type: 'simple',
      example_inputs: [{ text: 'hi' }],
    };
    standIn = await startTettoStandIn({ chain, agents: [echo], protocolWallet });
    tetto = createTettoPlatformMarketplace({ baseUrl: standIn.url, protocolWallet, chain });
  });

  afterAll(async () => {
    await standIn?.close();
    agentServer?.closeAllConnections();
    await new Promise((resolve) => agentServer?.close(resolve));
  });

  async function fundedPayer() {
    const payer = generateKeypair();
    await chain.fund(payer.publicKey, { lamports: 1_000_000_000n, usdc: 1_000_000n });
    return payer;
  }

  const balances = (...wallets: string[]) => Promise.all(wallets.map((wallet) => chain.balances(wallet)));

  async function receipt(id: string) {
    const res = await fetch(`${standIn.url}/api/receipts/${id}`);
    return res.json();
  }

  it('lists and gets agents, mapping the wire fields (price_base to bigint)', async () => {
    expect(await tetto.listAgents()).toEqual([echo]);
    expect(await tetto.getAgent(echo.id)).toEqual(echo);
    expect(await tetto.getAgent('Echo')).toEqual(echo);
    expect(await tetto.getAgent(randomUUID())).toBeUndefined();
    expect(await tetto.getAgent('Nobody')).toBeUndefined();
  });

  it('pays price − fee to the owner and the fee to the protocol, calls the agent as the payer, keeps a receipt', async () => {
    const payer = await fundedPayer();
    for (const expectedSpent of [FEE + 2n * TOKEN_ACCOUNT_RENT, FEE]) {
      // The first payment creates the recipients' token accounts; the second finds them.
      const [payerBefore, ownerBefore, protocolBefore] = await balances(
        payer.publicKey,
        owner,
        protocolWallet,
      );
      const result = await tetto.callAgent({
        agent: echo,
        input: { text: 'hello' },
        payer,
        intentId: 'call_1',
      });
      const [payerAfter, ownerAfter, protocolAfter] = await balances(payer.publicKey, owner, protocolWallet);

      expect(ownerAfter!.usdc - ownerBefore!.usdc).toBe(9_000n);
      expect(protocolAfter!.usdc - protocolBefore!.usdc).toBe(1_000n);
      expect(payerBefore!.usdc - payerAfter!.usdc).toBe(10_000n);
      expect(result.payment).toEqual({
        signature: expect.any(String),
        lamportsSpent: payerBefore!.lamports - payerAfter!.lamports,
        agentReceived: 9_000n,
        protocolFee: 1_000n,
        protocolWallet,
      });
      expect(result.payment.lamportsSpent).toBe(expectedSpent);
      expect(await chain.transactionStatus(result.payment.signature)).toBe('confirmed');

      const { input, tetto_context } = result.output as (typeof agentCalls)[number];
      expect(input).toEqual({ text: 'hello' });
      expect(tetto_context).toMatchObject({ caller_wallet: payer.publicKey, caller_agent_id: null });
      expect(await receipt(result.receiptId)).toEqual({
        ok: true,
        receipt: expect.objectContaining({
          id: result.receiptId,
          agent_id: echo.id,
          caller_wallet: payer.publicKey,
          payment_intent_id: tetto_context.intent_id,
          tx_signature: result.payment.signature,
          amount: 10_000,
          agent_received: 9_000,
          protocol_fee: 1_000,
          status: 'completed',
        }),
      });
    }
  });

  const dishonesty: Array<[string, (transfers: UsdcTransfer[]) => UsdcTransfer[]]> = [
    [
      'pays someone else',
      ([agentShare, ...rest]) => [{ ...agentShare!, to: generateKeypair().publicKey }, ...rest],
    ],
    [
      'asks more than the price',
      ([agentShare, ...rest]) => [{ ...agentShare!, amount: agentShare!.amount + 1n }, ...rest],
    ],
  ];

  it.each(
    dishonesty,
  )('refuses to sign a payment that %s: nothing moves, the agent is not called', async (_, rewriteTransfers) => {
    const dishonest = await startTettoStandIn({ chain, agents: [echo], protocolWallet, rewriteTransfers });
    try {
      const marketplace = createTettoPlatformMarketplace({ baseUrl: dishonest.url, protocolWallet, chain });
      const payer = await fundedPayer();
      const before = await chain.balances(payer.publicKey);
      const calls = agentCalls.length;

      const error = await marketplace
        .callAgent({ agent: echo, input: { text: 'hi' }, payer, intentId: 'call_2' })
        .catch((e) => e);

      expect(error).toBeInstanceOf(ChainError);
      expect(error).toMatchObject({
        code: 'rejected',
        signature: undefined,
        message: expect.stringMatching(/refused to sign/),
      });
      expect(await chain.balances(payer.publicKey)).toEqual(before);
      expect(agentCalls.length).toBe(calls);
    } finally {
      await dishonest.close();
    }
  });

  it('reports an agent failing after the payment as PaidCallError with the payment', async () => {
    const payer = await fundedPayer();
    const [payerBefore, ownerBefore] = await balances(payer.publicKey, owner);

    const error = await tetto
      .callAgent({ agent: echo, input: { text: 'hi', fail: true }, payer, intentId: 'call_3' })
      .catch((e) => e);

    const [payerAfter, ownerAfter] = await balances(payer.publicKey, owner);
    expect(error).toBeInstanceOf(PaidCallError);
    expect(error).toMatchObject({
      code: 'agent_failed',
      message: expect.stringContaining('the agent broke'),
      payment: {
        lamportsSpent: payerBefore!.lamports - payerAfter!.lamports,
        agentReceived: 9_000n,
        protocolFee: 1_000n,
        protocolWallet,
      },
    });
    expect(ownerAfter!.usdc - ownerBefore!.usdc).toBe(9_000n);
    expect(await chain.transactionStatus(error.payment.signature)).toBe('confirmed');
    expect(await receipt(error.receiptId)).toMatchObject({
      ok: true,
      receipt: { tx_signature: error.payment.signature, status: 'failed' },
    });
  });

  it('a platform refusal before the payment is a ChainError, and nothing moves', async () => {
    const payer = await fundedPayer();
    const before = await chain.balances(payer.publicKey);

    const refused = await tetto
      .callAgent({ agent: echo, input: { words: 1 }, payer, intentId: 'call_4' })
      .catch((e) => e);
    expect(refused).toBeInstanceOf(ChainError);
    expect(refused).toMatchObject({
      code: 'rejected',
      signature: undefined,
      message: expect.stringMatching(/Input validation failed/),
    });

    // Refused once signed: the error carries the signature, which the chain never saw.
    const expiring = await startTettoStandIn({ chain, agents: [echo], protocolWallet, intentTtlMs: -1 });
    try {
      const marketplace = createTettoPlatformMarketplace({ baseUrl: expiring.url, protocolWallet, chain });
      const expired = await marketplace
        .callAgent({ agent: echo, input: { text: 'hi' }, payer, intentId: 'call_5' })
        .catch((e) => e);
      expect(expired).toBeInstanceOf(ChainError);
      expect(expired).toMatchObject({
        code: 'rejected',
        lamportsSpent: undefined,
        message: expect.stringMatching(/expired/),
      });
      expect(await chain.transactionStatus(expired.signature)).toBe('unknown');
    } finally {
      await expiring.close();
    }
    expect(await chain.balances(payer.publicKey)).toEqual(before);
  });

  it('an unreachable platform: listings fail as bad_gateway, calls as unreachable with nothing signed', async () => {
    const down = createTettoPlatformMarketplace({ baseUrl: 'http://127.0.0.1:9', protocolWallet, chain });
    await expect(down.listAgents()).rejects.toMatchObject({ name: 'AppError', code: 'bad_gateway' });
    await expect(down.listAgents()).rejects.toBeInstanceOf(AppError);
    const payer = await fundedPayer();
    await expect(
      down.callAgent({ agent: echo, input: { text: 'hi' }, payer, intentId: 'call_6' }),
    ).rejects.toMatchObject({
      name: 'ChainError',
      code: 'unreachable',
      signature: undefined,
    });
  });
});
