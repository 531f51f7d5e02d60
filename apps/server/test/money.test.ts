import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createWallet,
  ensureAdmin,
  fundNewWallet,
  reconcileBalances,
  recordMovement,
  rewrapWalletKeys,
  signerOf,
  topUpIfLow,
  type WalletRow,
  walletBalance,
} from '@tdk/api';
import {
  chainCostPostings,
  createKeyring,
  ledgerAccount,
  newId,
  openSecret,
  parseKek,
  transferPostings,
} from '@tdk/core';
import { testDatabaseKinds } from '@tdk/db/testing';
import bs58 from 'bs58';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTdk, type Tdk } from '../src/compose';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startTestServer, type TestServer } from '../src/testing';
import { jsonClient } from './support/http';

const free = { usdc: 10_000_000n, lamports: 10_000_000n };
const kekHex = '11'.repeat(32);
const oldKek = { version: 1, key: parseKek(kekHex) };

async function newCustomer(tdk: Tdk): Promise<string> {
  const id = newId('user');
  await tdk.database.db
    .insertInto('app_user')
    .values({ id, email: `${id}@example.com`, password_hash: 'not-a-real-hash' })
    .execute();
  return id;
}

async function newFundedWallet(tdk: Tdk): Promise<WalletRow> {
  const wallet = await createWallet(tdk.database.db, tdk.services, {
    kind: 'dedicated',
    ownerUserId: await newCustomer(tdk),
    tier: 'free',
  });
  await fundNewWallet(tdk.services, wallet.id);
  return wallet;
}

/** Spends USDC from a wallet as a paid call would, booked in the ledger. */
async function spend(tdk: Tdk, wallet: WalletRow, amount: bigint): Promise<void> {
  const to = tdk.services.newKeypair().publicKey;
  const moved = await tdk.services.chain.transferUsdc({
    from: signerOf(tdk.services, wallet),
    transfers: [{ to, amount }],
  });
  const account = ledgerAccount.wallet(wallet.id);
  await recordMovement(tdk.database.db, {
    kind: 'test_spend',
    walletId: wallet.id,
    chainSignature: moved.signature,
    postings: [
      ...transferPostings(account, ledgerAccount.agentOwner(to), 'usdc', amount),
      ...chainCostPostings(account, moved.lamportsSpent),
    ],
  });
}

/** A transaction of the wallet written in the chain journal, pending: signed, and sent or about to be. */
async function journalPending(
  tdk: Tdk,
  wallet: WalletRow,
  kind: 'agent_payment' | 'top_up',
  seed: number,
  postings: Array<{ account: string; asset: string; amount: bigint }> = [],
): Promise<{ drop: () => Promise<void> }> {
  const signature = bs58.encode(Buffer.alloc(64, seed));
  const { db } = tdk.database;
  await db
    .insertInto('chain_intent')
    .values({
      signature,
      movement_id: newId('movement'),
      kind,
      wallet_id: wallet.id,
      payer: ledgerAccount.wallet(wallet.id),
      lamports_sent: '0',
      postings: JSON.stringify(postings.map((p) => ({ ...p, amount: p.amount.toString() }))),
      details: '{}',
    })
    .execute();
  return {
    // Settled as never landed.
    drop: async () => {
      await db
        .updateTable('chain_intent')
        .set({ status: 'dropped' })
        .where('signature', '=', signature)
        .execute();
    },
  };
}

describe.each(testDatabaseKinds)('money on %s', (kind) => {
  let server: TestServer;
  let tdk: Tdk;
  beforeAll(async () => {
    server = await startTestServer(kind, { WALLET_ENCRYPTION_KEY: kekHex });
    tdk = server.tdk;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('funds each of 20 new wallets exactly once with the tier amounts, and the ledger equals the chain', async () => {
    const wallets = await Promise.all(
      Array.from({ length: 20 }, async () =>
        createWallet(tdk.database.db, tdk.services, {
          kind: 'dedicated',
          ownerUserId: await newCustomer(tdk),
          tier: 'free',
        }),
      ),
    );
    // Ask three times for each, concurrently: only the first may pay.
    const results = await Promise.all(
      wallets.flatMap((w) => [1, 2, 3].map(() => fundNewWallet(tdk.services, w.id))),
    );
    expect(results.filter(Boolean)).toHaveLength(20);
    for (const wallet of wallets) {
      expect(await tdk.services.chain.balances(wallet.public_key)).toEqual(free);
      expect(await walletBalance(tdk.database.db, wallet.id)).toEqual({
        usdc: free.usdc,
        sol: free.lamports,
      });
    }
    const movements = await tdk.database.db
      .selectFrom('ledger_movement')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('kind', '=', 'wallet_funding')
      .where(
        'wallet_id',
        'in',
        wallets.map((w) => w.id),
      )
      .executeTakeFirstOrThrow();
    expect(Number(movements.n)).toBe(40); // one USDC and one SOL transfer each
    expect((await reconcileBalances(tdk.services)).differences).toEqual([]);
  });

  it('tops a low wallet up exactly once when 50 requests notice together', async () => {
    const wallet = await newFundedWallet(tdk);
    await spend(tdk, wallet, 6_000_000n); // 4 USDC left: under the free tier's 5 USDC threshold
    const topUps = await Promise.all(Array.from({ length: 50 }, () => topUpIfLow(tdk.services, wallet)));
    const sent = topUps.filter((t) => t.usdc > 0n);
    expect(sent).toEqual([{ usdc: 6_000_000n, lamports: 0n }]);
    expect((await tdk.services.chain.balances(wallet.public_key)).usdc).toBe(10_000_000n);
    const count = await tdk.database.db
      .selectFrom('ledger_movement')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('kind', '=', 'top_up')
      .where('wallet_id', '=', wallet.id)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
    expect((await reconcileBalances(tdk.services)).differences).toEqual([]);
  });

  it('leaves a wallet whose initial funding has not landed to that funding, not to a top-up', async () => {
    const wallet = await createWallet(tdk.database.db, tdk.services, {
      kind: 'dedicated',
      ownerUserId: await newCustomer(tdk),
      tier: 'free',
    });
    // Empty and below every threshold, but its funding is still to come (retried by a job).
    expect(await topUpIfLow(tdk.services, wallet)).toEqual({ usdc: 0n, lamports: 0n });
    expect(await fundNewWallet(tdk.services, wallet.id)).toBe(true);
    expect(await tdk.services.chain.balances(wallet.public_key)).toEqual({
      usdc: free.usdc,
      lamports: free.lamports,
    });
  });

  it('takes over a stale top-up claim only once the top-up it sent is settled', async () => {
    const wallet = await newFundedWallet(tdk);
    await spend(tdk, wallet, 6_000_000n);
    // A process claimed the wallet ten minutes ago, sent a top-up and died before its outcome.
    await tdk.database.db
      .updateTable('wallet')
      .set({ top_up_claimed_at: sql<Date>`now() - interval '10 minutes'` })
      .where('id', '=', wallet.id)
      .execute();
    const inDoubt = await journalPending(tdk, wallet, 'top_up', 9);
    expect(await topUpIfLow(tdk.services, wallet)).toEqual({ usdc: 0n, lamports: 0n });
    // Settled (it never landed): the claim is taken over, and the wallet refilled once.
    await inDoubt.drop();
    expect(await topUpIfLow(tdk.services, wallet)).toEqual({ usdc: 6_000_000n, lamports: 0n });
    expect((await reconcileBalances(tdk.services)).differences).toEqual([]);
  });

  it('counts the payments in flight against a wallet when deciding a top-up', async () => {
    const wallet = await newFundedWallet(tdk);
    await spend(tdk, wallet, 4_000_000n); // 6 USDC booked: above the free tier's 5 USDC threshold
    expect(await topUpIfLow(tdk.services, wallet)).toEqual({ usdc: 0n, lamports: 0n });
    // A call's payment of 2 USDC journaled, landed or about to, and booked only once its agent answers.
    const owner = ledgerAccount.agentOwner('owner');
    const payment = transferPostings(ledgerAccount.wallet(wallet.id), owner, 'usdc', 2_000_000n);
    const inFlight = await journalPending(tdk, wallet, 'agent_payment', 11, payment);
    try {
      expect(await walletBalance(tdk.database.db, wallet.id)).toMatchObject({ usdc: 4_000_000n });
      expect(await topUpIfLow(tdk.services, wallet)).toEqual({ usdc: 6_000_000n, lamports: 0n });
    } finally {
      await inFlight.drop();
    }
    expect((await reconcileBalances(tdk.services)).differences).toEqual([]);
  });

  it("releases a top-up's claim while one of the wallet's own payments is in flight", async () => {
    const wallet = await newFundedWallet(tdk);
    await spend(tdk, wallet, 6_000_000n);
    // A call's payment journaled and not yet recorded, as between its payment and its record.
    const inFlight = await journalPending(tdk, wallet, 'agent_payment', 7);
    try {
      expect(await topUpIfLow(tdk.services, wallet)).toEqual({ usdc: 6_000_000n, lamports: 0n });
      const { top_up_claimed_at } = await tdk.database.db
        .selectFrom('wallet')
        .select('top_up_claimed_at')
        .where('id', '=', wallet.id)
        .executeTakeFirstOrThrow();
      // Held, the next refill of this wallet would wait for the claim to go stale (minutes).
      expect(top_up_claimed_at).toBeNull();
    } finally {
      await inFlight.drop();
    }
  });

  it('reports every difference between ledger and chain', async () => {
    const wallet = await newFundedWallet(tdk);
    // Money that moves on chain without a ledger entry is exactly what reconciliation must catch.
    await tdk.services.chain.transferUsdc({
      from: signerOf(tdk.services, wallet),
      transfers: [{ to: tdk.services.newKeypair().publicKey, amount: 1_000n }],
    });
    const report = await reconcileBalances(tdk.services);
    const mine = report.differences.filter((d) => d.wallet_id === wallet.id);
    expect(mine.find((d) => d.asset === 'usdc')).toMatchObject({
      ledger: '10000000',
      chain: '9999000',
      difference: '-1000',
    });
    expect(mine.find((d) => d.asset === 'sol')).toBeDefined(); // the unbooked network fee (and recipient ATA rent)
  });

  it('keeps every wallet secret out of the database, the logs and the API', async () => {
    const wallets = [await newFundedWallet(tdk), await newFundedWallet(tdk)];
    const treasury = await tdk.database.db
      .selectFrom('wallet')
      .selectAll()
      .where('kind', '!=', 'dedicated')
      .execute();
    const secrets = [...wallets, ...treasury].map((w) => signerOf(tdk.services, w).secretKey);

    const tables = [
      'app_user',
      'session',
      'audit_log',
      'wallet',
      'ledger_movement',
      'ledger_posting',
      'chain_account',
      'instance_setting',
    ];
    let dump = '';
    for (const table of tables) {
      const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(
        tdk.database.db,
      );
      dump += JSON.stringify(rows.rows, (_k, v) =>
        typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
      );
    }
    const email = `admin.${Date.now()}@example.com`;
    await ensureAdmin(tdk.database.db, { email, password: 'correct horse battery staple' });
    const api = jsonClient(server.url);
    const token = (
      await api('POST', '/api/tdk/auth/login', { body: { email, password: 'correct horse battery staple' } })
    ).body.session.token;
    const answers = JSON.stringify([
      (await api('GET', '/api/tdk/admin/treasury', { token })).body,
      (await api('GET', '/api/tdk/admin/reconciliation', { token })).body,
    ]);
    expect(answers).toContain(treasury.find((w) => w.kind === 'treasury')?.public_key);

    for (const secret of secrets) {
      const forms = [
        bs58.encode(secret),
        Buffer.from(secret).toString('hex'),
        JSON.stringify(Array.from(secret)),
        Buffer.from(secret).toString('base64'),
      ];
      // The 32-byte seed alone is the secret too.
      forms.push(bs58.encode(secret.slice(0, 32)), Buffer.from(secret.slice(0, 32)).toString('hex'));
      for (const form of forms) {
        expect(dump).not.toContain(form);
        expect(server.rawLogs()).not.toContain(form);
        expect(answers).not.toContain(form);
      }
    }
  });

  it('re-wraps every wallet key under a new KEK, resumably, and the old KEK is then unneeded', async () => {
    await newFundedWallet(tdk);
    const oldVault = tdk.services.vault;
    const newKek = { version: 2, key: parseKek('42'.repeat(32)) };
    const rotating = { ...tdk.services, vault: createKeyring({ current: newKek, previous: [oldKek] }) };
    // Both KEKs open everything while the rotation runs.
    const rows = await tdk.database.db.selectFrom('wallet').selectAll().execute();
    for (const row of rows) expect(() => signerOf(rotating, row)).not.toThrow();

    const first = await rewrapWalletKeys(rotating, { pageSize: 3 });
    expect(first.rewrapped).toBe(rows.length);
    expect((await rewrapWalletKeys(rotating)).rewrapped).toBe(0);
    const onlyNew = createKeyring({ current: newKek });
    for (const row of await tdk.database.db.selectFrom('wallet').selectAll().execute()) {
      expect(row.kek_version).toBe(2);
      const opened = openSecret(onlyNew, row.sealed_secret, { walletId: row.id, publicKey: row.public_key });
      expect(opened).toEqual(signerOf({ vault: oldVault }, rows.find((r) => r.id === row.id)!).secretKey);
    }
    // Put things back for the other tests on this server.
    await rewrapWalletKeys({
      db: tdk.database.db,
      vault: createKeyring({ current: oldKek, previous: [newKek] }),
    });
  });
});

describe('treasury alerts', () => {
  let hook: Server;
  const received: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => hook.close(() => resolve())));

  it('raises treasury_low on the log, the metric, the admin view and the webhook under 20% of the float', async () => {
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
    const server = await startTestServer('pglite-memory', {
      TREASURY_FLOAT_USDC: '50000000',
      ALERT_WEBHOOK_URL: url,
    });
    try {
      const tdk = server.tdk;
      for (let i = 0; i < 4; i++) await newFundedWallet(tdk); // 50 − 40 = 10 USDC left: 20%, not under
      expect(received).toEqual([]);
      await newFundedWallet(tdk).catch(() => undefined); // the fifth empties it
      expect(received[0]).toMatchObject({ kind: 'treasury_low', severity: 'critical', service: 'tdk' });
      const lines = server
        .logs()
        .filter((l) => (l.alert as { kind?: string } | undefined)?.kind === 'treasury_low');
      expect(lines[0]?.level).toBe(50);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/tdk_alerts_total\{kind="treasury_low",severity="critical"\} [1-9]/);
      const status = await import('@tdk/api').then((api) => api.treasuryStatus(tdk.services));
      expect(status.low).toBe(true);
    } finally {
      await server.stop();
    }
  });
});

describe('embedded default across restarts', () => {
  it('keeps treasury and wallet balances equal on chain and in the ledger, restarted twice', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tdk-money-'));
    const start = async () => {
      const config = loadConfig({ TDK_DATA_DIR: dataDir, TDK_PORT: '0', LOG_LEVEL: 'silent' });
      return createTdk(config, { logger: createLogger('silent') });
    };
    try {
      let tdk = await start();
      const wallets = [await newFundedWallet(tdk), await newFundedWallet(tdk)];
      await spend(tdk, wallets[0]!, 7_000_000n);
      await topUpIfLow(tdk.services, wallets[0]!);
      const balancesOf = async (t: Tdk) => {
        const treasury = await t.database.db
          .selectFrom('wallet')
          .select('public_key')
          .where('kind', '=', 'treasury')
          .executeTakeFirstOrThrow();
        return Promise.all(
          [treasury.public_key, ...wallets.map((w) => w.public_key)].map((a) => t.services.chain.balances(a)),
        );
      };
      const before = await balancesOf(tdk);
      expect((await reconcileBalances(tdk.services)).differences).toEqual([]);
      for (let restart = 0; restart < 2; restart++) {
        await tdk.stop();
        tdk = await start();
        expect(await balancesOf(tdk)).toEqual(before);
        const report = await reconcileBalances(tdk.services);
        expect(report.checked_wallets).toBe(3);
        expect(report.differences).toEqual([]);
      }
      // And the restarted chain still moves money.
      await spend(tdk, wallets[1]!, 1_000n);
      expect((await reconcileBalances(tdk.services)).differences).toEqual([]);
      await tdk.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('the embedded treasury, its first start cut short', () => {
  it('is seeded by the next start, whether it stopped before the faucet or before the ledger', async () => {
    const first = await startTestServer('pglite-memory');
    const servers = [first];
    try {
      const { db } = first.tdk.database;
      const treasury = await db
        .selectFrom('wallet')
        .selectAll()
        .where('kind', '=', 'treasury')
        .executeTakeFirstOrThrow();
      const forgetSeed = async () => {
        const seeds = db.selectFrom('ledger_movement').select('id').where('kind', '=', 'treasury_seeded');
        await db.deleteFrom('ledger_posting').where('movement_id', 'in', seeds).execute();
        await db.deleteFrom('ledger_movement').where('kind', '=', 'treasury_seeded').execute();
      };
      const restart = async () => {
        const next = await startTestServer('pglite-memory', {}, { shareDatabaseWith: first });
        servers.push(next);
        const seeds = await db
          .selectFrom('ledger_movement')
          .select('id')
          .where('kind', '=', 'treasury_seeded')
          .execute();
        expect(seeds).toHaveLength(1);
        expect((await reconcileBalances(next.tdk.services)).differences).toEqual([]);
        return next.tdk.services.chain.balances(treasury.public_key);
      };
      const seeded = await first.tdk.services.chain.balances(treasury.public_key);
      expect(seeded.usdc).toBeGreaterThan(0n);

      // Stopped after the faucet, before the ledger: the seed is booked, not paid twice.
      await forgetSeed();
      expect(await restart()).toEqual(seeded);

      // Stopped before the faucet: the treasury and its token account as a new chain has them, none.
      await forgetSeed();
      await sql`delete from chain_account
        where address = ${treasury.public_key} or substring(data from 33 for 32) = ${bs58.decode(treasury.public_key)}`.execute(
        db,
      );
      expect(await restart()).toEqual(seeded);
    } finally {
      for (const server of servers.reverse()) await server.stop();
    }
  });
});
