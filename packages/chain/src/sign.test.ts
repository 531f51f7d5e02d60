import {
  createAssociatedTokenAccountIdempotentInstruction,
  createAssociatedTokenAccountInstruction,
  createTransferCheckedInstruction,
  TOKEN_PROGRAM_ID,
} from '@solana/spl-token';
import { PublicKey, TransactionInstruction, VersionedTransaction } from '@solana/web3.js';
import { ChainError } from '@tdk/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedChain, type EmbeddedChain } from './embedded/chain';
import { generateKeypair, toKeypair } from './keys';
import {
  buildUnsignedUsdcPayment,
  checkSignedCopy,
  checkUsdcPayment,
  signSerializedTransaction,
  UnexpectedTransactionError,
  type UsdcPayment,
  unsignedTransaction,
} from './sign';
import { FEE, TOKEN_ACCOUNT_RENT } from './testing/port-contract';
import {
  associatedTokenAddress,
  memoInstruction,
  priorityFeeInstructions,
  solTransferInstruction,
  usdcTransferInstructions,
} from './transactions';

describe('payments built by one party, checked and signed by another', () => {
  let chain: EmbeddedChain;
  let blockhash: string;
  let mint: PublicKey;
  const payer = generateKeypair();
  const payerKey = toKeypair(payer).publicKey;
  const owner = generateKeypair().publicKey;
  const protocol = generateKeypair().publicKey;
  const stranger = new PublicKey(generateKeypair().publicKey);
  const price = [
    { to: owner, amount: 9_000n },
    { to: protocol, amount: 1_000n },
  ];
  let expected: UsdcPayment;

  beforeAll(async () => {
    chain = await createEmbeddedChain();
    ({ blockhash } = await chain.latestBlockhash());
    mint = new PublicKey(chain.usdcMint);
    expected = { payer: payer.publicKey, usdcMint: chain.usdcMint, transfers: price };
  });

  const pays = (transfers: Array<{ to: string | PublicKey; amount: bigint }>, token = mint) =>
    usdcTransferInstructions(
      payerKey,
      token,
      transfers.map(({ to, amount }) => ({ to: new PublicKey(to), amount })),
    );
  // Without the account creations, so the transfers themselves are what gets checked.
  const transfersOnly = (transfers: Array<{ to: string | PublicKey; amount: bigint }>, token = mint) =>
    pays(transfers, token).filter(({ programId }) => programId.equals(TOKEN_PROGRAM_ID));
  const unsigned = (instructions: TransactionInstruction[], feePayer = payerKey) =>
    unsignedTransaction(instructions, feePayer, blockhash);

  it('builds a payment that checks out, signs it, and settles it on the chain', async () => {
    await chain.fund(payer.publicKey, { lamports: 1_000_000_000n, usdc: 50_000n });
    const built = buildUnsignedUsdcPayment({ ...expected, blockhash, memo: 'intent-1' });
    expect(() => checkUsdcPayment(built, expected)).not.toThrow();

    const { signedBase64, signature } = signSerializedTransaction(built, payer);
    expect(checkSignedCopy(built, signedBase64)).toBe(signature);
    const before = await chain.balances(payer.publicKey);
    const movement = await chain.submitSigned(signedBase64);

    expect(movement.signature).toBe(signature);
    // The first payment to each recipient creates its token account: the payer pays both rents.
    expect(movement.lamportsSpent).toBe(FEE + 2n * TOKEN_ACCOUNT_RENT);
    expect(await chain.lamportsSpentOf(signature)).toBe(movement.lamportsSpent);
    expect(await chain.balances(payer.publicKey)).toEqual({
      lamports: before.lamports - movement.lamportsSpent,
      usdc: before.usdc - 10_000n,
    });
    expect((await chain.balances(owner)).usdc).toBe(9_000n);
    expect((await chain.balances(protocol)).usdc).toBe(1_000n);
    await expect(chain.submitSigned(signedBase64)).rejects.toBeInstanceOf(ChainError);
  });

  it('accepts what a platform may add: memos, Create instead of CreateIdempotent, a price in parts', () => {
    const source = associatedTokenAddress(payerKey, mint);
    const ownerAccount = associatedTokenAddress(new PublicKey(owner), mint);
    const transaction = unsigned([
      memoInstruction('intent-2'),
      createAssociatedTokenAccountInstruction(payerKey, ownerAccount, new PublicKey(owner), mint),
      createTransferCheckedInstruction(source, mint, ownerAccount, payerKey, 4_000n, 6),
      createTransferCheckedInstruction(source, mint, ownerAccount, payerKey, 5_000n, 6),
      ...pays([{ to: protocol, amount: 1_000n }]),
    ]);
    expect(() => checkUsdcPayment(transaction, expected)).not.toThrow();
  });

  const tampered: Array<[string, () => string]> = [
    ['pays another recipient', () => unsigned(transfersOnly([{ to: stranger, amount: 9_000n }, price[1]!]))],
    ['pays more', () => unsigned(pays([{ to: owner, amount: 9_001n }, price[1]!]))],
    ['leaves out the fee', () => unsigned(pays([price[0]!]))],
    [
      'pays in another token',
      () => unsigned(transfersOnly(price, new PublicKey(generateKeypair().publicKey))),
    ],
    ['also moves SOL', () => unsigned([...pays(price), solTransferInstruction(payerKey, stranger, 1n)])],
    [
      'sets a priority fee',
      () =>
        unsigned([
          ...priorityFeeInstructions({ microLamportsPerUnit: 1n, computeUnitLimit: 200_000 }),
          ...pays(price),
        ]),
    ],
    [
      "creates a stranger's token account",
      () =>
        unsigned([
          createAssociatedTokenAccountIdempotentInstruction(
            payerKey,
            associatedTokenAddress(stranger, mint),
            stranger,
            mint,
          ),
          ...pays(price),
        ]),
    ],
    ['has another fee payer', () => unsigned(pays(price), stranger)],
    [
      'needs another signer',
      () =>
        unsigned([
          ...pays(price),
          new TransactionInstruction({
            programId: memoInstruction('').programId,
            keys: [{ pubkey: stranger, isSigner: true, isWritable: false }],
            data: Buffer.from('hi'),
          }),
        ]),
    ],
    ['is not a transaction', () => 'bm90IGEgdHJhbnNhY3Rpb24='],
  ];

  it.each(tampered)('refuses a transaction that %s', (_, build) => {
    expect(() => checkUsdcPayment(build(), expected)).toThrow(UnexpectedTransactionError);
  });

  it('takes a signed copy only of the very transaction built, with a valid signature', () => {
    const built = buildUnsignedUsdcPayment({ ...expected, blockhash, memo: 'intent-3' });
    const other = buildUnsignedUsdcPayment({ ...expected, blockhash, memo: 'intent-4' });
    const { signedBase64 } = signSerializedTransaction(other, payer);
    expect(() => checkSignedCopy(built, signedBase64)).toThrow(/not the transaction that was built/);
    expect(() => checkSignedCopy(built, built)).toThrow(/lacks a valid signature/);

    const forged = VersionedTransaction.deserialize(
      Buffer.from(signSerializedTransaction(built, payer).signedBase64, 'base64'),
    );
    forged.signatures[0]![0]! ^= 1;
    const forgedBase64 = Buffer.from(forged.serialize()).toString('base64');
    expect(() => checkSignedCopy(built, forgedBase64)).toThrow(/lacks a valid signature/);
  });
});
