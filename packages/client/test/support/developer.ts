import { inject } from 'vitest';
import { rest } from './rest';

let count = 0;

/** A new account with one API key, signed up over REST as the README shows; `tier` is set by the admin. */
export async function newDeveloper(tier?: 'paid' | 'pro') {
  const { url } = inject('tdk');
  const email = `dev.${process.pid}.${++count}.${Date.now()}@sdk.test`;
  const { user, session } = await rest<{ user: { id: string }; session: { token: string } }>(
    url,
    'POST',
    '/auth/register',
    { body: { email, password: 'a long passphrase for tests' } },
  );
  if (tier) await updateUser(user.id, { tier });
  const { key, secret } = await rest<{ key: { id: string }; secret: string }>(url, 'POST', '/keys/generate', {
    token: session.token,
    body: { name: 'sdk test' },
  });
  return { userId: user.id, session: session.token, apiKey: secret, keyId: key.id, baseUrl: url };
}

/** Changes an account as its admin would, e.g. `{ status: 'suspended' }`. */
export async function updateUser(userId: string, changes: Record<string, unknown>): Promise<void> {
  const { url, adminToken } = inject('tdk');
  await rest(url, 'PATCH', `/admin/users/${userId}`, { token: adminToken, body: changes });
}
