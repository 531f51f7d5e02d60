import { ledgerAccount, type Signer, transferPostings } from '@tdk/core';
import { isUniqueViolation } from '@tdk/db';
import type { Services } from '../services';
import { ledgerBalances, recordMovement } from './ledger';
import { createWallet, signerOf, type WalletRow, walletOfKind } from './wallets';

/** Under this share of its float the treasury raises the `treasury_low` alert. */
export const treasuryLowRatio = { numerator: 1n, denominator: 5n };

/**
 * The treasury wallet: found, or created on first start (from an imported keypair when configured,
 * otherwise a new one). On the embedded chain a new treasury is seeded from the local faucet, and
 * the ledger books the seed so ledger and chain agree from the first block.
 */
export async function ensureTreasury(
  services: Services,
  options: {
    importKeypair?: Signer;
    embeddedSeed?: EmbeddedSeed;
  } = {},
): Promise<WalletRow> {
  let treasury = await walletOfKind(services.db, 'treasury');
  if (!treasury) {
    try {
      treasury = await createWallet(services.db, services, {
        kind: 'treasury',
        ...(options.importKeypair ? { keypair: options.importKeypair } : {}),
      });
    } catch (error) {
      // Another process starting at the same moment created it first (one treasury per installation)
      // and seeds it.
      if (!isUniqueViolation(error)) throw error;
      return treasuryWallet(services);
    }
  }
  if (options.embeddedSeed) await seedOnce(services, treasury, options.embeddedSeed);
  return treasury;
}

interface EmbeddedSeed {
  usdc: bigint;
  lamports: bigint;
  fund: FundFromFaucet;
}

/**
 * Seeds the embedded treasury unless the ledger shows it was, at every start: a first start that
 * stopped between creating the treasury and seeding it (or between the faucet and the ledger) is
 * finished by the next one. The faucet runs only while the treasury holds nothing on chain.
 */
async function seedOnce(services: Services, treasury: WalletRow, seed: EmbeddedSeed): Promise<void> {
  const seeded = await services.db
    .selectFrom('ledger_movement')
    .select('id')
    .where('kind', '=', 'treasury_seeded')
    .where('wallet_id', '=', treasury.id)
    .executeTakeFirst();
  if (seeded) return;
  const onChain = await services.chain.balances(treasury.public_key);
  if (onChain.usdc === 0n && onChain.lamports === 0n) {
    await seed.fund(treasury.public_key, { usdc: seed.usdc, lamports: seed.lamports });
  } else if (onChain.usdc !== seed.usdc || onChain.lamports !== seed.lamports) {
    // Not what the faucet gives: booking a seed would hide a difference reconciliation must show.
    return;
  }
  const account = ledgerAccount.wallet(treasury.id);
  await recordMovement(services.db, {
    kind: 'treasury_seeded',
    walletId: treasury.id,
    postings: [
      ...transferPostings(ledgerAccount.embeddedFaucet, account, 'usdc', seed.usdc),
      ...transferPostings(ledgerAccount.embeddedFaucet, account, 'sol', seed.lamports),
    ],
  });
}

export type FundFromFaucet = (owner: string, amounts: { usdc: bigint; lamports: bigint }) => Promise<void>;

export async function treasuryWallet(services: Services): Promise<WalletRow> {
  const treasury = await walletOfKind(services.db, 'treasury');
  if (!treasury) throw new Error('the treasury has not been set up');
  return treasury;
}

export const treasurySigner = async (services: Services): Promise<{ wallet: WalletRow; signer: Signer }> => {
  const wallet = await treasuryWallet(services);
  return { wallet, signer: signerOf(services, wallet) };
};

export interface TreasuryStatus {
  wallet_id: string;
  address: string;
  network: string;
  chain: { usdc: string; lamports: string };
  ledger: { usdc: string; lamports: string };
  float_usdc: string;
  /** True when the treasury's USDC is under 20% of its float. */
  low: boolean;
}

export async function treasuryStatus(services: Services): Promise<TreasuryStatus> {
  const wallet = await treasuryWallet(services);
  const account = ledgerAccount.wallet(wallet.id);
  const [chain, ledger] = await Promise.all([
    services.chain.balances(wallet.public_key),
    ledgerBalances(services.db, [account]).then((m) => m.get(account) ?? { usdc: 0n, sol: 0n }),
  ]);
  return {
    wallet_id: wallet.id,
    address: wallet.public_key,
    network: services.chain.network,
    chain: { usdc: chain.usdc.toString(), lamports: chain.lamports.toString() },
    ledger: { usdc: ledger.usdc.toString(), lamports: ledger.sol.toString() },
    float_usdc: services.treasury.floatUsdc.toString(),
    low: isLow(chain.usdc, services.treasury.floatUsdc),
  };
}

const isLow = (usdc: bigint, float: bigint) =>
  usdc * treasuryLowRatio.denominator < float * treasuryLowRatio.numerator;

/** Raises `treasury_low` when the treasury is under 20% of its float. Cheap: reads the ledger only. */
export async function checkTreasuryFloat(services: Services, treasury: WalletRow): Promise<boolean> {
  const account = ledgerAccount.wallet(treasury.id);
  const balance = (await ledgerBalances(services.db, [account])).get(account)?.usdc ?? 0n;
  if (!isLow(balance, services.treasury.floatUsdc)) return false;
  await services.alerts.raise({
    kind: 'treasury_low',
    severity: 'critical',
    message: 'The treasury holds less than 20% of its USDC float: refill it before top-ups start failing.',
    details: {
      address: treasury.public_key,
      usdc: balance.toString(),
      float_usdc: services.treasury.floatUsdc.toString(),
    },
  });
  return true;
}
