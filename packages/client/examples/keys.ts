// API keys, with the session token of a signed-in account (POST /api/tdk/auth/login).
import { TDK } from '@tdk/client';

const account = new TDK({ sessionToken: process.env.TDK_SESSION_TOKEN });

// A key for CI: at most $2 a month, and it stops working by itself in 30 days.
const { key, secret } = await account.keys.generate({
  name: 'ci',
  monthly_spend_cap: 2_000_000,
  expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString(),
});
console.log(`created ${key.id} (${key.hint}), wallet ${key.wallet.address}; secret shown once`);

const raised = await account.keys.update(key.id, { monthly_spend_cap: 5_000_000 });
console.log(
  `cap: $${(raised.monthly_spend_cap ?? 0) / 1_000_000} a month, until ${raised.expires_at?.slice(0, 10)}`,
);

const rolled = await account.keys.roll(key.id, { grace_seconds: 60 });
console.log(`rolled: new secret ${rolled.secret !== secret}, old one valid for 60 s more`);

await account.keys.revoke(key.id);
const { items } = await account.keys.list();
console.log(items.map((k) => `${k.name}: ${k.status}`).join(', '));
