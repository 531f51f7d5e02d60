// A long-running call: queue it, follow its status live, then take its result.
import { TDK } from '@tdk/client';

const tdk = new TDK();

const queued = await tdk.call('memory', { action: 'list' }, { async: true });
console.log(`queued ${queued.id}`);

for await (const event of tdk.calls.events(queued.id)) {
  console.log(`  ${event.seq}. ${event.status}`);
}

// Or just wait for the outcome (it throws the error a failed call ended with).
const result = await tdk.calls.wait<{ keys: string[] }>(queued.id);
console.log(`result: ${result.output.keys.length} keys, ${result.cost.display}`);
