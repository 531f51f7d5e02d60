import type { TettoIntent } from '@tdk/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from './connect';
import { createTestDatabase, testDatabaseKinds } from './testing';
import { createTettoStore } from './tetto-store';

const intent = (id: string, expiresAt = Date.now() + 60_000): TettoIntent => ({
  id,
  agent_id: 'a1b2',
  price_base: '1000',
  fee_bps: 1000,
  payer: 'payer-wallet',
  input: { action: 'store', text: 'ünïcødé' },
  transaction: 'AQID',
  expires_at: expiresAt,
});

describe.each(testDatabaseKinds)('the Tetto store on %s', (kind) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await handle.close();
  });

  it('gives an intent back once, to one of many concurrent takers', async () => {
    const store = createTettoStore(handle.db);
    await store.saveIntent(intent('i-once'));
    const taken = await Promise.all(Array.from({ length: 5 }, () => store.takeIntent('i-once')));
    expect(taken.filter(Boolean)).toEqual([intent('i-once', taken.find(Boolean)!.expires_at)]);
    expect(await store.takeIntent('i-once')).toBeUndefined();
  });

  it('clears intents long expired as new ones are saved', async () => {
    const store = createTettoStore(handle.db);
    await store.saveIntent(intent('i-old', Date.now() - 3_600_000));
    await store.saveIntent(intent('i-new'));
    expect(await store.takeIntent('i-old')).toBeUndefined();
    expect(await store.takeIntent('i-new')).toMatchObject({ id: 'i-new' });
  });

  it('keeps receipts', async () => {
    const store = createTettoStore(handle.db);
    const receipt = { id: 'r1', status: 'completed', amount: 1000, output: { ok: true } };
    await store.saveReceipt('r1', receipt);
    expect(await store.getReceipt('r1')).toEqual(receipt);
    expect(await store.getReceipt('r2')).toBeUndefined();
  });
});
