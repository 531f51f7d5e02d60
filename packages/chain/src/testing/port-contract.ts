import { ChainError, type ChainErrorCode, type Signer, type SolanaPort, type UsdcTransfer } from '@tdk/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeypair } from '../keys';
import { buildUnsignedUsdcPayment, signSerializedTransaction } from '../sign';

/** LiteSVM charges Solana's fee and rent: 5,000 lamports per signature; a token account (165 bytes) holds this much. */
export const FEE = 5_000n;
export const TOKEN_ACCOUNT_RENT = 2_039_280n;
const SOL = 1_000_000_000n;

export interface PortUnderTest {
  port: SolanaPort;
  fund(owner: string, amounts: { lamports?: bigint; usdc?: bigint }): Promise<void>;
}

/** What both adapters must do alike; each adapter's test file runs it on its own set-up. */
export function describeSolanaPort(name: string, setUp: () => Promise<PortUnderTest>): void {
  describe(`${name} adapter: the Solana port`, () => {
    let port: SolanaPort;
    let fund: PortUnderTest['fund'];
    beforeAll(async () => {
      ({ port, fund } = await setUp());
    });

    async function wallet(amounts: { lamports?: bigint; usdc?: bigint }) {
      const signer = generateKeypair();
      await fund(signer.publicKey, amounts);
      return signer;
    }

    async function rejection(promise: Promise<unknown>) {
      const error = await promise.then(
        () => expect.unreachable('expected a ChainError'),
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ name: 'ChainError' });
      return error as {
        code: ChainErrorCode;
        asset?: string;
        transactionError: unknown;
        lamportsSpent?: bigint;
      };
    }

    it('transfers SOL; lamportsSpent is exactly what the payer lost (amount + fee)', async () => {
      const payer = await wallet({ lamports: SOL });
      const to = generateKeypair().publicKey;
      const movement = await port.transferSol({ from: payer, to, lamports: 10_000_000n });
      expect(movement.lamportsSpent).toBe(10_000_000n + FEE);
      expect(await port.balances(payer.publicKey)).toEqual({
        lamports: SOL - movement.lamportsSpent,
        usdc: 0n,
      });
      expect(await port.balances(to)).toEqual({ lamports: 10_000_000n, usdc: 0n });
      expect(await port.transactionStatus(movement.signature)).toBe('confirmed');
    });

    it('pays USDC: the first payment to a new recipient pays its token account rent, the second does not', async () => {
      const payer = await wallet({ lamports: SOL, usdc: 5_000_000n });
      const agent = generateKeypair().publicKey;

      const first = await port.transferUsdc({ from: payer, transfers: [{ to: agent, amount: 1_000n }] });
      expect(first.lamportsSpent).toBe(FEE + TOKEN_ACCOUNT_RENT);
      const second = await port.transferUsdc({ from: payer, transfers: [{ to: agent, amount: 1_000n }] });
      expect(second.lamportsSpent).toBe(FEE);

      expect(second.signature).not.toBe(first.signature);
      expect(await port.balances(agent)).toEqual({ lamports: 0n, usdc: 2_000n });
      expect(await port.balances(payer.publicKey)).toEqual({
        lamports: SOL - first.lamportsSpent - second.lamportsSpent,
        usdc: 4_998_000n,
      });
    });

    it('pays the agent owner and the protocol fee in one transaction', async () => {
      const payer = await wallet({ lamports: SOL, usdc: 1_000_000n });
      const owner = generateKeypair().publicKey;
      const protocol = generateKeypair().publicKey;
      const price = 10_000n;
      const fee = (price * 1_000n) / 10_000n;

      const movement = await port.transferUsdc({
        from: payer,
        transfers: [
          { to: owner, amount: price - fee },
          { to: protocol, amount: fee },
        ],
        memo: 'call_123',
      });

      expect(movement.lamportsSpent).toBe(FEE + 2n * TOKEN_ACCOUNT_RENT);
      expect((await port.balances(owner)).usdc).toBe(9_000n);
      expect((await port.balances(protocol)).usdc).toBe(1_000n);
      expect(await port.balances(payer.publicKey)).toEqual({
        lamports: SOL - movement.lamportsSpent,
        usdc: 990_000n,
      });
    });

    it('refuses a payment the payer cannot afford in USDC, and nothing moves', async () => {
      const payer = await wallet({ lamports: SOL, usdc: 500n });
      const owner = generateKeypair().publicKey;
      const error = await rejection(
        port.transferUsdc({
          from: payer,
          transfers: [
            { to: owner, amount: 400n },
            { to: owner, amount: 200n },
          ],
        }),
      );
      expect(error).toMatchObject({ code: 'insufficient_funds', asset: 'usdc', lamportsSpent: undefined });
      expect(await port.balances(payer.publicKey)).toEqual({ lamports: SOL, usdc: 500n });
      expect(await port.balances(owner)).toEqual({ lamports: 0n, usdc: 0n });
    });

    it('refuses a payer without a USDC account as short of USDC', async () => {
      const payer = await wallet({ lamports: SOL });
      const error = await rejection(
        port.transferUsdc({ from: payer, transfers: [{ to: generateKeypair().publicKey, amount: 1n }] }),
      );
      expect(error).toMatchObject({ code: 'insufficient_funds', asset: 'usdc' });
      expect((await port.balances(payer.publicKey)).lamports).toBe(SOL);
    });

    it('refuses what the payer cannot afford in SOL: amount, fee, or a new token account’s rent', async () => {
      const poor = await wallet({ lamports: 1_000_000n, usdc: 1_000n });
      const to = generateKeypair().publicKey;
      const tooMuch = await rejection(port.transferSol({ from: poor, to, lamports: 2_000_000n }));
      expect(tooMuch).toMatchObject({ code: 'insufficient_funds', asset: 'sol' });
      const noRent = await rejection(port.transferUsdc({ from: poor, transfers: [{ to, amount: 1n }] }));
      expect(noRent).toMatchObject({ code: 'insufficient_funds', asset: 'sol' });
      const noAccount = await rejection(port.transferSol({ from: generateKeypair(), to, lamports: 1n }));
      expect(noAccount).toMatchObject({ code: 'insufficient_funds', asset: 'sol' });
      expect(await port.balances(poor.publicKey)).toEqual({ lamports: 1_000_000n, usdc: 1_000n });
      expect(await port.balances(to)).toEqual({ lamports: 0n, usdc: 0n });
    });

    it('reports what the chain rejects for another reason with its error', async () => {
      const payer = await wallet({ lamports: SOL });
      // A new account must receive at least its rent-exempt minimum.
      const error = await rejection(
        port.transferSol({ from: payer, to: generateKeypair().publicKey, lamports: 1n }),
      );
      expect(error).toMatchObject({
        code: 'rejected',
        transactionError: { InsufficientFundsForRent: { account_index: 1 } },
      });
      expect((await port.balances(payer.publicKey)).lamports).toBe(SOL);
    });

    it('checks its input before building a transaction', async () => {
      const payer = generateKeypair();
      await expect(port.transferSol({ from: payer, to: 'not-a-key', lamports: 1n })).rejects.toThrow(
        RangeError,
      );
      await expect(port.transferSol({ from: payer, to: payer.publicKey, lamports: 0n })).rejects.toThrow(
        RangeError,
      );
      await expect(port.transferUsdc({ from: payer, transfers: [] })).rejects.toThrow(RangeError);
      const impostor = { ...payer, publicKey: generateKeypair().publicKey };
      await expect(port.transferSol({ from: impostor, to: payer.publicKey, lamports: 1n })).rejects.toThrow(
        RangeError,
      );
    });

    /** A payment built as a platform builds it, unsigned, on the latest blockhash. */
    async function builtPayment(payer: Signer, transfers: UsdcTransfer[], memo: string) {
      const { blockhash, lastValidBlockHeight } = await port.latestBlockhash();
      expect(lastValidBlockHeight).toBeGreaterThan(0);
      return buildUnsignedUsdcPayment({
        payer: payer.publicKey,
        usdcMint: port.usdcMint,
        transfers,
        blockhash,
        memo,
      });
    }

    it('submits a payment built elsewhere and signed by its payer, with the exact lamportsSpent, once', async () => {
      const payer = await wallet({ lamports: SOL, usdc: 1_000_000n });
      const owner = generateKeypair().publicKey;
      const protocol = generateKeypair().publicKey;
      const built = await builtPayment(
        payer,
        [
          { to: owner, amount: 9_000n },
          { to: protocol, amount: 1_000n },
        ],
        'intent_1',
      );
      const { signedBase64, signature } = signSerializedTransaction(built, payer);

      const movement = await port.submitSigned(signedBase64);

      expect(movement).toEqual({ signature, lamportsSpent: FEE + 2n * TOKEN_ACCOUNT_RENT });
      expect(await port.lamportsSpentOf(signature)).toBe(movement.lamportsSpent);
      expect(await port.transactionStatus(signature)).toBe('confirmed');
      const after = [
        await port.balances(payer.publicKey),
        await port.balances(owner),
        await port.balances(protocol),
      ];
      expect(after).toEqual([
        { lamports: SOL - movement.lamportsSpent, usdc: 990_000n },
        { lamports: 0n, usdc: 9_000n },
        { lamports: 0n, usdc: 1_000n },
      ]);

      // The same bytes again are refused, or recognised as the transaction that landed: one payment.
      const again = await port.submitSigned(signedBase64).catch((error: unknown) => error);
      if (!(again instanceof ChainError)) expect(again).toEqual(movement);
      expect(await port.balances(payer.publicKey)).toEqual(after[0]);
    });

    it('refuses a signed payment the payer cannot afford, and one not validly signed: nothing moves', async () => {
      const payer = await wallet({ lamports: SOL, usdc: 500n });
      const built = await builtPayment(
        payer,
        [{ to: generateKeypair().publicKey, amount: 1_000n }],
        'intent_2',
      );

      const error = await rejection(port.submitSigned(signSerializedTransaction(built, payer).signedBase64));
      expect(error).toMatchObject({ code: 'insufficient_funds', asset: 'usdc', lamportsSpent: undefined });
      await expect(port.submitSigned(built)).rejects.toThrow(/lacks a valid signature/);
      await expect(port.submitSigned('bm90IGEgdHJhbnNhY3Rpb24=')).rejects.toThrow(RangeError);
      expect(await port.balances(payer.publicKey)).toEqual({ lamports: SOL, usdc: 500n });
    });

    it('knows nothing of a signature it never saw', async () => {
      const unknown = '5'.repeat(87);
      expect(await port.transactionStatus(unknown)).toBe('unknown');
      await expect(port.lamportsSpentOf(unknown)).rejects.toMatchObject({ code: 'unreachable' });
      await port.ping();
      expect(port.usdcDecimals).toBe(6);
    });
  });
}
