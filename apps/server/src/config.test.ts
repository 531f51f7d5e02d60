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
});
