import { SystemProgram } from '@solana/web3.js';
import { describe, expect, it } from 'vitest';
import { generateKeypair, toKeypair } from '../keys';
import { describeSolanaPort, FEE } from '../testing/port-contract';
import { signTransaction } from '../transactions';
import { createEmbeddedChain, embeddedChainOn } from './chain';
import { createMemorySnapshotStore } from './memory-store';
import { LocalRuntime } from './runtime';

describeSolanaPort('embedded', async () => {
  const chain = await createEmbeddedChain();
  return { port: chain, fund: (owner, amounts) => chain.fund(owner, amounts) };
});

describe('embedded chain', () => {
  it('comes back after a restart with the same accounts and balances, and keeps working', async () => {
    const store = createMemorySnapshotStore();
    const mint = { mint: generateKeypair(), authority: generateKeypair() };
    const treasury = generateKeypair();
    const wallet = generateKeypair();
    const agent = generateKeypair().publicKey;

    const before = await createEmbeddedChain({ mint, snapshotStore: store });
    await before.fund(treasury.publicKey, { lamports: 10_000_000_000n, usdc: 100_000_000n });
    await before.transferSol({ from: treasury, to: wallet.publicKey, lamports: 50_000_000n });
    await before.transferUsdc({ from: treasury, transfers: [{ to: wallet.publicKey, amount: 10_000_000n }] });
    await before.transferUsdc({ from: wallet, transfers: [{ to: agent, amount: 1_000n }] });
    const addresses = [treasury.publicKey, wallet.publicKey, agent];
    const balances = await Promise.all(addresses.map((address) => before.balances(address)));

    const after = await createEmbeddedChain({ mint, snapshotStore: store });
    expect(after.usdcMint).toBe(before.usdcMint);
    expect(await Promise.all(addresses.map((address) => after.balances(address)))).toEqual(balances);

    await after.fund(wallet.publicKey, { usdc: 5n });
    const payment = await after.transferUsdc({ from: wallet, transfers: [{ to: agent, amount: 1_000n }] });
    expect(payment.lamportsSpent).toBe(FEE);
    expect(await after.balances(agent)).toEqual({ lamports: 0n, usdc: 2_000n });
  });

  it('refuses to persist without a fixed mint, and to restore a mint under another authority', async () => {
    const snapshotStore = createMemorySnapshotStore();
    await expect(createEmbeddedChain({ snapshotStore })).rejects.toThrow(TypeError);
    const mint = generateKeypair();
    await createEmbeddedChain({ mint: { mint, authority: generateKeypair() }, snapshotStore });
    await expect(
      createEmbeddedChain({ mint: { mint, authority: generateKeypair() }, snapshotStore }),
    ).rejects.toThrow(/another mint authority/);
  });

  it('reports a transaction that landed and failed as failed, its fee paid', async () => {
    const runtime = await LocalRuntime.create();
    const chain = embeddedChainOn(runtime);
    const payer = generateKeypair();
    await chain.fund(payer.publicKey, { lamports: 1_000_000n });
    const transfer = SystemProgram.transfer({
      fromPubkey: toKeypair(payer).publicKey,
      toPubkey: toKeypair(generateKeypair()).publicKey,
      lamports: 5_000_000n,
    });
    const signed = signTransaction([transfer], [toKeypair(payer)], runtime.latestBlockhash().blockhash);

    const outcome = await runtime.submit(signed, { preflight: false });

    expect(outcome).toMatchObject({
      landed: true,
      record: { err: { InstructionError: [0, { Custom: 1 }] } },
    });
    expect(await chain.transactionStatus(signed.signature)).toBe('failed');
    expect((await chain.balances(payer.publicKey)).lamports).toBe(1_000_000n - FEE);
  });

  it('gives every transaction a block: the same transfer twice is two transactions', async () => {
    const chain = await createEmbeddedChain();
    const payer = generateKeypair();
    const to = generateKeypair().publicKey;
    await chain.fund(payer.publicKey, { lamports: 1_000_000_000n });
    const first = await chain.transferSol({ from: payer, to, lamports: 1_000_000n });
    const second = await chain.transferSol({ from: payer, to, lamports: 1_000_000n });
    expect(second.signature).not.toBe(first.signature);
    expect((await chain.balances(to)).lamports).toBe(2_000_000n);
  });
});
