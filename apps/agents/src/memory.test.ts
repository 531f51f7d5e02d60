import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryHandler } from './memory';
import { type AgentServer, startAgentServer } from './server';
import { createMapStore } from './store';
import { ALICE, BOB, caller } from './testing/http';

let server: AgentServer;
beforeAll(async () => {
  server = await startAgentServer();
});
afterAll(() => server.close());

const memory = (wallet = ALICE) => caller(server.agents.memory, wallet);

describe('memory agent', () => {
  it('stores, retrieves, lists and deletes', async () => {
    const call = memory('wallet-crud');
    const stored = await call({ action: 'store', key: 'greeting', value: 'hello' });
    expect(stored.status).toBe(200);
    expect(stored.body).toEqual({ ok: true, key: 'greeting', stored_at: expect.any(String) });
    expect(Date.parse(String(stored.body.stored_at))).not.toBeNaN();

    expect((await call({ action: 'retrieve', key: 'greeting' })).body).toEqual({
      found: true,
      key: 'greeting',
      value: 'hello',
    });
    expect((await call({ action: 'list' })).body).toEqual({ keys: ['greeting'], truncated: false });
    expect((await call({ action: 'delete', key: 'greeting' })).body).toEqual({
      deleted: true,
      key: 'greeting',
    });
    expect((await call({ action: 'retrieve', key: 'greeting' })).body).toEqual({
      found: false,
      key: 'greeting',
      value: null,
    });
    expect((await call({ action: 'delete', key: 'greeting' })).body).toEqual({
      deleted: false,
      key: 'greeting',
    });
    expect((await call({ action: 'list' })).body).toEqual({ keys: [], truncated: false });
  });

  it('replaces the value of a key stored again, and keeps empty values', async () => {
    const call = memory('wallet-replace');
    await call({ action: 'store', key: 'k', value: 'first' });
    await call({ action: 'store', key: 'k', value: '' });
    expect((await call({ action: 'retrieve', key: 'k' })).body).toEqual({ found: true, key: 'k', value: '' });
  });

  it('lists keys sorted and filtered by prefix', async () => {
    const call = memory('wallet-list');
    for (const key of ['user:2', 'team:1', 'user:10', 'user:1'])
      await call({ action: 'store', key, value: 'v' });
    expect((await call({ action: 'list' })).body.keys).toEqual(['team:1', 'user:1', 'user:10', 'user:2']);
    expect((await call({ action: 'list', prefix: 'user:1' })).body.keys).toEqual(['user:1', 'user:10']);
    expect((await call({ action: 'list', prefix: 'nobody' })).body.keys).toEqual([]);
  });

  it("keeps each caller wallet's keys apart", async () => {
    await memory(ALICE)({ action: 'store', key: 'shared-name', value: 'alice' });
    await memory(BOB)({ action: 'store', key: 'shared-name', value: 'bob' });
    expect((await memory(ALICE)({ action: 'retrieve', key: 'shared-name' })).body.value).toBe('alice');
    expect((await memory(BOB)({ action: 'retrieve', key: 'shared-name' })).body.value).toBe('bob');

    await memory(BOB)({ action: 'delete', key: 'shared-name' });
    expect((await memory(ALICE)({ action: 'retrieve', key: 'shared-name' })).body.value).toBe('alice');
    expect((await memory('wallet-stranger')({ action: 'list' })).body.keys).toEqual([]);
  });

  it.each([
    ['no action', { key: 'k' }, 'action must be one of: store, retrieve, list, delete'],
    ['an unknown action', { action: 'drop', key: 'k' }, 'action must be one of'],
    ['store without key', { action: 'store', value: 'v' }, 'key is required'],
    ['store without value', { action: 'store', key: 'k' }, 'value is required'],
    ['a non-string value', { action: 'store', key: 'k', value: 42 }, 'value must be a string'],
    ['a null key', { action: 'retrieve', key: null }, 'key must be a string'],
    ['an empty key', { action: 'retrieve', key: '' }, 'key must not be empty'],
    [
      'a field the action does not take',
      { action: 'retrieve', key: 'k', value: 'v' },
      'unknown field "value"',
    ],
    ['a non-string prefix', { action: 'list', prefix: 1 }, 'prefix must be a string'],
  ])('answers 400 to %s', async (_, input, message) => {
    const reply = await memory()(input);
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ error: expect.stringContaining(message) });
  });

  it('limits keys to 256 characters and values to 64 KiB of UTF-8', async () => {
    const call = memory('wallet-sizes');
    expect((await call({ action: 'store', key: 'k'.repeat(256), value: 'v' })).status).toBe(200);
    // Characters are code points, as JSON Schema counts them: 256 emoji are 512 UTF-16 units.
    expect((await call({ action: 'store', key: '🔑'.repeat(256), value: 'v' })).status).toBe(200);
    const longKey = await call({ action: 'store', key: 'k'.repeat(257), value: 'v' });
    expect(longKey).toMatchObject({ status: 400, body: { error: 'key must be at most 256 characters' } });

    expect((await call({ action: 'store', key: 'full', value: 'v'.repeat(65_536) })).status).toBe(200);
    const tooBig = await call({ action: 'store', key: 'big', value: 'v'.repeat(65_537) });
    expect(tooBig).toMatchObject({
      status: 400,
      body: { error: expect.stringContaining('value must be at most') },
    });
    // 32,769 characters but 65,538 bytes.
    const wide = await call({ action: 'store', key: 'wide', value: 'é'.repeat(32_769) });
    expect(wide).toMatchObject({
      status: 400,
      body: { error: 'value must be at most 65536 bytes as UTF-8' },
    });
  });
});

// The count limits need thousands of keys: filled straight into the store, then called as the server
// calls the handler (10,000 HTTP calls would take seconds for nothing more).
describe('memory agent limits on counts', () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `key-${String(i).padStart(5, '0')}`);
  const call = { callerWallet: ALICE, signal: new AbortController().signal };

  async function fullMemory() {
    const store = createMapStore<string>();
    for (const key of keys) await store.set(ALICE, key, 'v', Number.POSITIVE_INFINITY);
    return createMemoryHandler(store);
  }

  it('holds at most 10,000 keys per caller', async () => {
    const memory = await fullMemory();
    await expect(memory({ action: 'store', key: 'one-more', value: 'v' }, call)).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('10000 keys'),
    });
    // Replacing a key adds none; another wallet has its own room; a delete makes room.
    await expect(memory({ action: 'store', key: 'key-00000', value: 'new' }, call)).resolves.toMatchObject({
      ok: true,
    });
    await expect(
      memory({ action: 'store', key: 'one-more', value: 'v' }, { ...call, callerWallet: BOB }),
    ).resolves.toMatchObject({ ok: true });
    await memory({ action: 'delete', key: 'key-00001' }, call);
    await expect(memory({ action: 'store', key: 'one-more', value: 'v' }, call)).resolves.toMatchObject({
      ok: true,
    });
  });

  it('lists at most 1,000 keys, the first in order, and says it truncated', async () => {
    const memory = await fullMemory();
    expect(await memory({ action: 'list' }, call)).toEqual({ keys: keys.slice(0, 1_000), truncated: true });
    expect(await memory({ action: 'list', prefix: 'key-0999' }, call)).toEqual({
      keys: keys.slice(9_990),
      truncated: false,
    });
  });
});
