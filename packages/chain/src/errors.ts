import { ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { SystemProgram, type VersionedTransaction } from '@solana/web3.js';
import { ChainError, type ChainErrorCode } from '@tdk/core';
import { instructionPrograms } from './transactions';

/**
 * A transaction error as Solana's JSON-RPC spells it: `'BlockhashNotFound'`,
 * `{ InstructionError: [1, { Custom: 1 }] }`, `{ InsufficientFundsForRent: { account_index: 0 } }`…
 */
export type TransactionErrorJson = string | { [variant: string]: unknown };

/** Custom error 1 is "not enough lamports" from the system program, also when ATA creation calls it. */
const SOL_PROGRAMS = [SystemProgram.programId, ASSOCIATED_TOKEN_PROGRAM_ID];
/** TransferChecked fails so when the payer's token account lacks the amount (1) or does not exist. */
const USDC_SHORTAGES = ['{"Custom":1}', '"InvalidAccountData"', '"UninitializedAccount"'];

/**
 * The typed error for a transaction the chain refused (`landed` unset) or executed and failed
 * (`landed` set: the payer still paid the fee).
 */
export function transactionFailed(
  err: TransactionErrorJson,
  transaction: VersionedTransaction,
  landed?: { signature: string; lamportsSpent: bigint },
): ChainError {
  const [code, message, asset] = classify(err, transaction);
  return new ChainError(code, message, { transactionError: err, asset, ...landed });
}

function classify(
  err: TransactionErrorJson,
  transaction: VersionedTransaction,
): [ChainErrorCode, string, ('sol' | 'usdc')?] {
  if (err === 'BlockhashNotFound') return ['expired', 'the blockhash expired before the transaction ran'];
  if (err === 'InsufficientFundsForFee' || err === 'AccountNotFound') {
    return ['insufficient_funds', 'the payer cannot pay the fee', 'sol'];
  }
  if (typeof err === 'object') {
    const rent = err.InsufficientFundsForRent as { account_index?: number } | undefined;
    if (rent?.account_index === 0)
      return ['insufficient_funds', 'the payer would fall below rent exemption', 'sol'];
    if (Array.isArray(err.InstructionError)) {
      const [index, cause] = err.InstructionError as [number, unknown];
      const program = instructionPrograms(transaction)[index];
      const causeText = JSON.stringify(cause);
      if (causeText === '{"Custom":1}' && SOL_PROGRAMS.some((id) => program?.equals(id))) {
        return ['insufficient_funds', 'not enough SOL', 'sol'];
      }
      if (program?.equals(TOKEN_PROGRAM_ID) && USDC_SHORTAGES.includes(causeText)) {
        return ['insufficient_funds', 'not enough USDC', 'usdc'];
      }
    }
  }
  return ['rejected', `the chain rejected the transaction: ${JSON.stringify(err)}`];
}
