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
    const kek = 'ab'.repeat(32);
    expect(
      loadConfig({ DATABASE_URL: 'postgres://u:p@localhost:5432/tdk', WALLET_ENCRYPTION_KEY: kek }).database,
    ).toMatchObject({
      kind: 'postgres',
      url: 'postgres://u:p@localhost:5432/tdk',
      preparedStatements: true,
    });
    const pooled = loadConfig({
      DATABASE_URL: 'postgres://u:p@pgbouncer:6432/tdk',
      DATABASE_PREPARED_STATEMENTS: 'false',
      WALLET_ENCRYPTION_KEY: kek,
    });
    expect(pooled.database).toMatchObject({ kind: 'postgres', preparedStatements: false });
    expect(loadConfig({ DATABASE_URL: 'memory:' }).database.kind).toBe('pglite-memory');
    expect(loadConfig({ TDK_PORT: '' }).server.port).toBe(8787);
  });

  it('trusts X-Forwarded-For from no one, a number of hops, or listed proxies; never from anyone', () => {
    expect(loadConfig({}).server.trustProxy).toBe(false);
    expect(loadConfig({ TDK_TRUST_PROXY: '1' }).server.trustProxy).toBe(1);
    expect(loadConfig({ TDK_TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::1' }).server.trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::1',
    ]);
    expect(() => loadConfig({ TDK_TRUST_PROXY: 'true' })).toThrow(/TDK_TRUST_PROXY: true would believe any/);
    for (const bad of ['0', '10.0.0.0/33', 'proxy.internal', '1.2.3.4/8/1']) {
      expect(() => loadConfig({ TDK_TRUST_PROXY: bad }), bad).toThrow(/TDK_TRUST_PROXY: expected false/);
    }
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

  it('needs a wallet encryption key with a shared database, and never echoes one', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://localhost/tdk' })).toThrow(
      /WALLET_ENCRYPTION_KEY: required/,
    );
    const secret = 'zz'.repeat(32);
    expect(() => loadConfig({ WALLET_ENCRYPTION_KEY: secret })).toThrow(/WALLET_ENCRYPTION_KEY/);
    try {
      loadConfig({ WALLET_ENCRYPTION_KEY: secret });
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
    expect(loadConfig({}).walletKek.kind).toBe('embedded-file');
    expect(loadConfig({ DATABASE_URL: 'memory:' }).walletKek.kind).toBe('ephemeral');
    expect(
      loadConfig({
        WALLET_ENCRYPTION_PREVIOUS_KEYS: `1:${'cd'.repeat(32)}`,
        WALLET_ENCRYPTION_KEY: 'ab'.repeat(32),
        WALLET_ENCRYPTION_KEY_VERSION: '2',
      }).walletKek,
    ).toMatchObject({
      kind: 'given',
      current: { version: 2 },
      previous: [{ version: 1 }],
    });
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
