import { type Sampled, sample } from './sample';
import type { BenchTdk } from './tdk';

export interface KeyVerification {
  /** The key verified again and again, as the calls of one busy key are. */
  cached: Sampled;
  /** The key evicted before each verification, so each one is a database lookup. */
  uncached: Sampled;
}

/**
 * What authenticating a paid call costs, measured on the verifier TDK's own call path uses (not a
 * copy), so the SHA-256 of the secret, the cache and the lookup's queries are the real ones.
 */
export async function measureKeyVerification(
  bench: BenchTdk,
  seconds: number,
  warmUpSeconds: number,
): Promise<KeyVerification> {
  const { keys, apiKey, keyId } = bench;
  const cached = () => keys.verify(apiKey);
  // The evict, a scan of a one-entry cache, is timed too: nothing next to the lookup.
  const uncached = () => {
    keys.evict(keyId);
    return keys.verify(apiKey);
  };
  await sample(cached, warmUpSeconds);
  await sample(uncached, warmUpSeconds);
  return { cached: await sample(cached, seconds), uncached: await sample(uncached, seconds) };
}
