// API keys, with the session token of a signed-in account (POST /api/tdk/auth/login).
import { TDK } from '@tdk/client';

const account = new TDK({ sessionToken: process.env.TDK_SESSION_TOKEN });

const { key, secret } = await account.keys.generate({ name: 'ci' });
console.log(`created ${key.id} (${key.hint}), wallet ${key.wallet.address}; secret shown once`);

const rolled = await account.keys.roll(key.id, { grace_seconds: 60 });
console.log(`rolled: new secret ${rolled.secret !== secret}, old one valid for 60 s more`);

await account.keys.revoke(key.id);
const { items } = await account.keys.list();
console.log(items.map((k) => `${k.name}: ${k.status}`).join(', '));
