import {
  Keypair,
  PublicKey,
  SystemProgram,
  TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import bs58 from 'bs58';
import { describe, expect, it } from 'vitest';
import {
  memoInstruction,
  priorityFeeInstructions,
  signTransaction,
  solTransferInstruction,
  usdcTransferInstructions,
} from './transactions';

const key = () => Keypair.generate().publicKey;

/** web3.js's own compilation and serialization, signed by its own `sign`. */
function reference(instructions: TransactionInstruction[], signers: Keypair[], blockhash: string) {
  const message = new TransactionMessage({
    payerKey: signers[0]!.publicKey,
    recentBlockhash: blockhash,
    instructions,
  });
  const transaction = new VersionedTransaction(message.compileToLegacyMessage());
  transaction.sign(signers);
  return transaction;
}

describe('signTransaction', () => {
  const payer = Keypair.generate();
  const other = Keypair.generate();
  const mint = key();
  const blockhash = bs58.encode(key().toBytes());
  const cases: Record<string, [TransactionInstruction[], Keypair[]]> = {
    'a USDC payment with a memo': [
      [
        ...usdcTransferInstructions(payer.publicKey, mint, [
          { to: key(), amount: 900n },
          { to: key(), amount: 100n },
        ]),
        memoInstruction('mv_123'),
      ],
      [payer],
    ],
    'a SOL transfer with a priority fee': [
      [
        ...priorityFeeInstructions({ microLamportsPerUnit: 1_000n, computeUnitLimit: 200_000 }),
        solTransferInstruction(payer.publicKey, key(), 5n),
      ],
      [payer],
    ],
    'a second signer, first seen as a read-only account, and a key read-only then writable': (() => {
      const shared = key();
      const program = key();
      return [
        [
          new TransactionInstruction({
            programId: program,
            keys: [
              { pubkey: other.publicKey, isSigner: false, isWritable: false },
              { pubkey: shared, isSigner: false, isWritable: false },
            ],
            data: Buffer.from([1, 2, 3]),
          }),
          SystemProgram.transfer({ fromPubkey: other.publicKey, toPubkey: shared, lamports: 1n }),
          new TransactionInstruction({ programId: program, keys: [], data: Buffer.alloc(300, 7) }),
        ],
        [payer, other],
      ];
    })(),
  };

  it.each(Object.entries(cases))('compiles, serializes and signs as web3.js does: %s', (_, [
    instructions,
    signers,
  ]) => {
    const expected = reference(instructions, signers, blockhash);
    const signed = signTransaction(instructions, signers, blockhash);

    expect(signed.bytes).toEqual(expected.serialize());
    expect(signed.transaction.serialize()).toEqual(expected.serialize());
    expect(signed.transaction.message).toEqual(expected.message);
    expect(signed.signature).toBe(bs58.encode(expected.signatures[0]!));
  });

  it('refuses what web3.js cannot serialize', () => {
    const recipients = Array.from({ length: 20 }, () => ({ to: key(), amount: 1n }));
    const instructions = usdcTransferInstructions(payer.publicKey, mint, recipients);
    expect(() => reference(instructions, [payer], blockhash).serialize()).toThrow(RangeError);
    expect(() => signTransaction(instructions, [payer], blockhash)).toThrow(RangeError);

    const data = [new TransactionInstruction({ programId: key(), keys: [], data: Buffer.alloc(1_300) })];
    expect(() => reference(data, [payer], blockhash).serialize()).toThrow(RangeError);
    expect(() => signTransaction(data, [payer], blockhash)).toThrow(RangeError);
  });

  it('refuses a signer the transaction does not need', () => {
    expect(() => signTransaction([memoInstruction('m')], [payer, other], blockhash)).toThrow(
      /non signer key/,
    );
  });

  it('takes equal keys given as different objects for one account', () => {
    const to = key();
    const instructions = [
      solTransferInstruction(payer.publicKey, to, 1n),
      solTransferInstruction(new PublicKey(payer.publicKey.toBytes()), new PublicKey(to.toBase58()), 2n),
    ];
    const signed = signTransaction(instructions, [payer], blockhash);
    expect(signed.transaction.message.staticAccountKeys).toHaveLength(3);
    expect(signed.bytes).toEqual(reference(instructions, [payer], blockhash).serialize());
  });
});
