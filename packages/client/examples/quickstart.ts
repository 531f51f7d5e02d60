// The first call: store a memory and read it back. Run with TDK_API_KEY (and TDK_BASE_URL when TDK
// is not on http://127.0.0.1:8787) set:  node --import tsx examples/quickstart.ts
import { TDK } from '@tdk/client';

const tdk = new TDK({ apiKey: process.env.TDK_API_KEY });

const stored = await tdk.call('memory', { action: 'store', key: 'greeting', value: 'hello' });
console.log(`stored for ${stored.cost.display}, paid by ${stored.payment.tx_signature}`);

const { output } = await tdk.call<{ found: boolean; value: string | null }>('memory', {
  action: 'retrieve',
  key: 'greeting',
});
console.log(`greeting = ${output.value}`);
