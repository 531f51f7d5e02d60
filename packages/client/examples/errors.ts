// Errors you can act on: each failure has its class, a stable code, and the request id.
import {
  AgentError,
  InsufficientFundsError,
  InvalidInputError,
  QuotaExceededError,
  RateLimitError,
  TDK,
  TDKError,
} from '@tdk/client';

const tdk = new TDK({ maxRetries: 3 }); // 429s, 5xx and network errors are retried, never paying twice

try {
  await tdk.call('memory', { action: 'store', key: 'no value' });
} catch (error) {
  if (error instanceof InvalidInputError) {
    console.log(`invalid input (nothing was paid): ${error.issues.map((i) => `${i.path} ${i.message}`)[0]}`);
  } else if (error instanceof RateLimitError) {
    console.log(`slow down: retry in ${error.retryAfter} s`);
  } else if (error instanceof InsufficientFundsError || error instanceof QuotaExceededError) {
    console.log(`out of funds or quota (${error.code}): nothing was paid`);
  } else if (error instanceof AgentError) {
    console.log(`the agent failed after payment; call ${error.callId} is recorded and not billed`);
  } else if (error instanceof TDKError) {
    console.log(`${error.name} ${error.code} (request ${error.requestId})`);
  } else {
    throw error;
  }
}

// The same Idempotency-Key replays the first answer instead of paying again.
const first = await tdk.call('memory', { action: 'list' }, { idempotencyKey: 'nightly-report-2026-01-31' });
const again = await tdk.call('memory', { action: 'list' }, { idempotencyKey: 'nightly-report-2026-01-31' });
console.log(`same call: ${first.id === again.id}`);
