import { PublicKey, SystemProgram } from '@solana/web3.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeypair, toKeypair } from '../keys';
import { FEE, TOKEN_ACCOUNT_RENT } from '../testing/port-contract';
import { memoInstruction, signTransaction, usdcTransferInstructions } from '../transactions';
import { embeddedChainOn } from './chain';
import { LocalRuntime } from './runtime';

/** A plain system account's rent-exempt minimum (0 bytes): a payer must keep at least this. */
const PAYER_MINIMUM = 890_880n;

describe('the embedded runtime’s pre-check (sending without simulating first)', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await LocalRuntime.create();
  });

  /** A fresh payer holding exactly `lamports` (none: no account) and `usdc` (none: no token account). */
  async function payer(lamports: bigint | undefined, usdc: bigint | undefined) {
    const signer = generateKeypair();
    const key = new PublicKey(signer.publicKey);
    if (lamports !== undefined) await runtime.airdrop(key, lamports);
    if (usdc !== undefined) await runtime.mintUsdc(key, usdc);
    return toKeypair(signer);
  }

  const payment = (from: ReturnType<typeof toKeypair>, transfers: Array<{ to: PublicKey; amount: bigint }>) =>
    signTransaction(
      [
        ...usdcTransferInstructions(from.publicKey, runtime.usdcMint, transfers),
        memoInstruction(`m${Math.random()}`),
      ],
      [from],
      runtime.latestBlockhash().blockhash,
    ).transaction;

  it('says a payment will succeed exactly when the chain’s simulation says so, at every edge', async () => {
    const existing = [generateKeypair(), generateKeypair()].map((signer) => new PublicKey(signer.publicKey));
    for (const owner of existing) await runtime.mintUsdc(owner, 1n);
    const cases: Array<[string, bigint | undefined, bigint | undefined, boolean]> = [];
    for (const newRecipients of [0n, 1n, 2n]) {
      const needed = FEE + newRecipients * TOKEN_ACCOUNT_RENT + PAYER_MINIMUM;
      for (const lamports of [needed - 1n, needed, needed + 1n, PAYER_MINIMUM, undefined]) {
        for (const usdc of [999n, 1_000n, 1_001n, 0n, undefined]) {
          const from = await payer(lamports, usdc);
          const fresh = () => new PublicKey(generateKeypair().publicKey);
          const recipients = [0, 1].map((i) => (BigInt(i) < newRecipients ? fresh() : existing[i]!));
          const transaction = payment(from, [
            { to: recipients[0]!, amount: 600n },
            { to: recipients[1]!, amount: 400n },
          ]);
          const simulated = runtime.simulate(transaction);
          cases.push([
            `${newRecipients} new, ${lamports} lamports, ${usdc} usdc`,
            lamports,
            usdc,
            simulated.err === null,
          ]);
          expect(runtime.surelySucceeds(transaction), cases.at(-1)![0]).toBe(simulated.err === null);
        }
      }
    }
    // The grid covers both answers, and refusals for SOL (fee, rent, rent exemption) and for USDC.
    expect(cases.some(([, , , ok]) => ok)).toBe(true);
    expect(cases.filter(([, , , ok]) => !ok).length).toBeGreaterThan(cases.length / 2);
  });

  it('simulates a payment to many new recipients, which the chain fails past its instruction trace limit', async () => {
    const from = await payer(1_000_000_000n, 1_000n);
    const recipients = Array.from({ length: 11 }, () => new PublicKey(generateKeypair().publicKey));
    const transaction = signTransaction(
      usdcTransferInstructions(
        from.publicKey,
        runtime.usdcMint,
        recipients.map((to) => ({ to, amount: 1n })),
      ),
      [from],
      runtime.latestBlockhash().blockhash,
    );
    expect(runtime.surelySucceeds(transaction.transaction)).toBe(false);
    expect(runtime.simulate(transaction.transaction).err).not.toBeNull();
    const chain = embeddedChainOn(runtime);
    const before = await chain.balances(from.publicKey.toBase58());
    await expect(runtime.submit(transaction, { preflight: true })).resolves.toMatchObject({ landed: false });
    expect(await chain.balances(from.publicKey.toBase58())).toEqual(before);
  });

  it('leaves to the simulation what it does not understand, so a failing one still costs nothing', async () => {
    const from = await payer(1_000_000_000n, 1_000n);
    const own = payment(from, [{ to: from.publicKey, amount: 1n }]);
    const sol = signTransaction(
      [SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: runtime.usdcMint, lamports: 1n })],
      [from],
      runtime.latestBlockhash().blockhash,
    ).transaction;
    expect(runtime.surelySucceeds(own)).toBe(false);
    expect(runtime.surelySucceeds(sol)).toBe(false);
    // Not UTF-8: the memo program would fail it after the fee was charged.
    const badMemo = memoInstruction('');
    badMemo.data = Buffer.from([0xff, 0xfe]);
    const signed = signTransaction(
      [
        ...usdcTransferInstructions(from.publicKey, runtime.usdcMint, [{ to: runtime.usdcMint, amount: 1n }]),
        badMemo,
      ],
      [from],
      runtime.latestBlockhash().blockhash,
    );
    expect(runtime.surelySucceeds(signed.transaction)).toBe(false);
    const chain = embeddedChainOn(runtime);
    const before = await chain.balances(from.publicKey.toBase58());
    await expect(runtime.submit(signed, { preflight: true })).resolves.toMatchObject({ landed: false });
    expect(await chain.balances(from.publicKey.toBase58())).toEqual(before);
  });

  it('refuses through the port what would break the payer’s rent exemption, and nothing moves', async () => {
    const chain = embeddedChainOn(runtime);
    const signer = generateKeypair();
    const lamports = FEE + TOKEN_ACCOUNT_RENT + PAYER_MINIMUM - 1n;
    await chain.fund(signer.publicKey, { lamports, usdc: 1_000n });
    const to = generateKeypair().publicKey;
    await expect(
      chain.transferUsdc({ from: signer, transfers: [{ to, amount: 1_000n }] }),
    ).rejects.toMatchObject({
      code: 'insufficient_funds',
      asset: 'sol',
      lamportsSpent: undefined,
    });
    expect(await chain.balances(signer.publicKey)).toEqual({ lamports, usdc: 1_000n });
    expect(await chain.balances(to)).toEqual({ lamports: 0n, usdc: 0n });

    await chain.fund(signer.publicKey, { lamports: 1n });
    const movement = await chain.transferUsdc({ from: signer, transfers: [{ to, amount: 1_000n }] });
    expect(movement.lamportsSpent).toBe(FEE + TOKEN_ACCOUNT_RENT);
    expect(await chain.balances(signer.publicKey)).toEqual({ lamports: PAYER_MINIMUM, usdc: 0n });
  });
});
