import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('starts from embedded defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config.server.port).toBe(8787);
    expect(config.database.kind).toBe('pglite');
    expect(config.dataDir).toMatch(/\.tdk$/);
  });

  it('reads Postgres, in-memory and empty values', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@localhost:5432/tdk' }).database).toMatchObject({
      kind: 'postgres',
      url: 'postgres://u:p@localhost:5432/tdk',
    });
    expect(loadConfig({ DATABASE_URL: 'memory:' }).database.kind).toBe('pglite-memory');
    expect(loadConfig({ TDK_PORT: '' }).server.port).toBe(8787);
  });

  it('names every bad variable and never echoes a secret-looking value', () => {
    let error: unknown;
    try {
      loadConfig({ TDK_PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://root:hunter2@db' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('TDK_PORT');
    expect(message).toContain('"eighty"');
    expect(message).toContain('LOG_LEVEL');
    expect(message).toContain('DATABASE_URL');
    expect(message).not.toContain('hunter2');
  });

  it('overrides parts of the tier table from TDK_TIERS, amounts as bigints', () => {
    const config = loadConfig({ TDK_TIERS: '{"free":{"callsPerMinute":5,"monthlySpendCap":"25000000"}}' });
    expect(config.tiers.free.callsPerMinute).toBe(5);
    expect(config.tiers.free.monthlySpendCap).toBe(25_000_000n);
    expect(config.tiers.free.includedCallsPerDay).toBe(1_000);
    expect(config.tiers.pro.monthlySpendCap).toBeNull();
    expect(() => loadConfig({ TDK_TIERS: '{"gold":{}}' })).toThrow(/TDK_TIERS/);
    expect(() => loadConfig({ TDK_TIERS: 'not json' })).toThrow(/TDK_TIERS: expected JSON/);
  });
});
