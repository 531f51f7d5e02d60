import { randomUUID } from 'node:crypto';
import { connectDatabase } from '@tdk/db';
import { createTestDatabase } from '@tdk/db/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createLimiterFactory } from '../src/limiter-store';

/** Two "processes" (two factories on two connections) spend one budget of 5 together. */
async function spendTogether(
  a: ReturnType<typeof createLimiterFactory>,
  b: ReturnType<typeof createLimiterFactory>,
  key = 'key_shared',
) {
  const options = { keyPrefix: `test_${randomUUID()}`, points: 5, duration: 60 };
  const [first, second] = [a(options), b(options)];
  const outcomes: boolean[] = [];
  for (const limiter of [first, second, first, second, first, second, first]) {
    outcomes.push(
      await limiter.consume(key).then(
        () => true,
        () => false,
      ),
    );
  }
  return outcomes;
}

describe('shared rate-limit stores', () => {
  it.runIf(process.env.TEST_DATABASE_URL)('Postgres: limits hold across processes', async () => {
    const one = await createTestDatabase('postgres');
    const two = await connectDatabase(one.target);
    try {
      expect(
        await spendTogether(createLimiterFactory(one, undefined), createLimiterFactory(two, undefined)),
      ).toEqual([true, true, true, true, true, false, false]);
      // A long key (a sign-in's 254-character email and an IPv6 address) is shared the same way.
      const long = `${'e'.repeat(240)}@example.com|2001:0db8:85a3:0000:0000:8a2e:0370:7334`;
      expect(
        await spendTogether(createLimiterFactory(one, undefined), createLimiterFactory(two, undefined), long),
      ).toEqual([true, true, true, true, true, false, false]);
    } finally {
      await two.close();
      await one.close();
    }
  });

  it.runIf(process.env.TEST_REDIS_URL)('Redis: limits hold across processes', async () => {
    const memoryDb = await createTestDatabase('pglite-memory');
    const [r1, r2] = [new Redis(process.env.TEST_REDIS_URL!), new Redis(process.env.TEST_REDIS_URL!)];
    try {
      expect(
        await spendTogether(createLimiterFactory(memoryDb, r1), createLimiterFactory(memoryDb, r2)),
      ).toEqual([true, true, true, true, true, false, false]);
    } finally {
      r1.disconnect();
      r2.disconnect();
      await memoryDb.close();
    }
  });

  it('memory: each process counts for itself (the embedded default is one process)', async () => {
    const db = await createTestDatabase('pglite-memory');
    try {
      const outcomes = await spendTogether(
        createLimiterFactory(db, undefined),
        createLimiterFactory(db, undefined),
      );
      expect(outcomes.every(Boolean)).toBe(true);
    } finally {
      await db.close();
    }
  });
});
