import { ensureAdmin } from '@tdk/api';
import type { TestServer } from '../../src/testing';
import { jsonClient } from './http';

let counter = 0;
const password = 'correct horse battery staple';

/** A signed-up developer with one API key, the way the README walks a newcomer through it. */
export async function newDeveloper(server: TestServer, options: { tier?: 'free' | 'paid' | 'pro' } = {}) {
  const api = jsonClient(server.url);
  const email = `dev.${Date.now()}.${++counter}@example.com`;
  const registered = await api('POST', '/api/tdk/auth/register', { body: { email, password } });
  if (registered.status !== 200) throw new Error(`register failed: ${JSON.stringify(registered.body)}`);
  const session = registered.body.session.token as string;
  const userId = registered.body.user.id as string;
  if (options.tier && options.tier !== 'free') {
    await server.tdk.database.db
      .updateTable('app_user')
      .set({ tier: options.tier })
      .where('id', '=', userId)
      .execute();
  }
  const key = await api('POST', '/api/tdk/keys/generate', { token: session, body: { name: 'test key' } });
  if (key.status !== 200) throw new Error(`key failed: ${JSON.stringify(key.body)}`);
  return {
    email,
    userId,
    session,
    apiKey: key.body.secret as string,
    keyId: key.body.key.id as string,
    walletId: key.body.key.wallet.id as string,
    wallet: key.body.key.wallet.address as string,
  };
}

export async function adminSession(server: TestServer): Promise<string> {
  const email = `admin.${Date.now()}.${++counter}@example.com`;
  await ensureAdmin(server.tdk.database.db, { email, password });
  const api = jsonClient(server.url);
  return (await api('POST', '/api/tdk/auth/login', { body: { email, password } })).body.session
    .token as string;
}
