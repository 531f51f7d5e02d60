import { TDK } from '@tdk/client';
import { interleave, type Sampled } from './sample';
import { type BenchTdk, callRequest } from './tdk';

export interface SdkComparison {
  raw: Sampled;
  sdk: Sampled;
}

/**
 * The same paid call from the TypeScript SDK and from a bare `fetch`, in turn, at each concurrency.
 * Both send the same headers with a fresh Idempotency-Key and read the JSON answer, so the
 * difference is the SDK.
 */
export async function compareSdk(
  bench: BenchTdk,
  concurrencies: number[],
  seconds: number,
  warmUpSeconds: number,
): Promise<SdkComparison[]> {
  // No retries: a retried call would hide a failure inside a long latency.
  const client = new TDK({ apiKey: bench.apiKey, baseUrl: bench.url, maxRetries: 0 });
  const sdk = () => client.call(callRequest.agent_id, callRequest.input);
  const raw = async () => {
    const res = await fetch(bench.callUrl, {
      method: 'POST',
      // The headers the SDK sends.
      headers: { ...bench.callHeaders, accept: 'application/json', 'idempotency-key': crypto.randomUUID() },
      body: bench.callBody,
    });
    if (!res.ok) throw new Error(`POST ${bench.callUrl} answered ${res.status}: ${await res.text()}`);
    return res.json();
  };
  await interleave([raw, sdk], warmUpSeconds, 1);
  const results: SdkComparison[] = [];
  for (const concurrency of concurrencies) {
    const [r, s] = await interleave([raw, sdk], seconds, concurrency);
    results.push({ raw: r!, sdk: s! });
  }
  return results;
}
