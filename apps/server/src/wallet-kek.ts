import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createKeyring, generateKek, type Keyring, parseKek } from '@tdk/core';
import { ConfigError, type WalletKekSource } from './config';
import type { Logger } from './logger';

/** The wallet vault's keyring, from the configured source; the embedded default keeps its key in a file. */
export function loadKeyring(source: WalletKekSource, logger: Logger): Keyring {
  const previous = source.previous;
  switch (source.kind) {
    case 'given':
      return createKeyring({ current: source.current, previous });
    case 'file':
      return createKeyring({ current: { version: source.version, key: readKekFile(source.path) }, previous });
    case 'ephemeral':
      return createKeyring({ current: { version: 1, key: parseKek(generateKek()) }, previous });
    case 'embedded-file': {
      if (!existsSync(source.path)) {
        mkdirSync(dirname(source.path), { recursive: true });
        writeFileSync(source.path, `${JSON.stringify({ version: 1, key: generateKek() })}\n`, {
          mode: 0o600,
        });
        logger.warn(
          { path: source.path },
          'generated a local wallet encryption key; back it up with the data folder (without it no wallet can sign)',
        );
      }
      const stored = JSON.parse(readFileSync(source.path, 'utf8')) as { version: number; key: string };
      return createKeyring({ current: { version: stored.version, key: parseKek(stored.key) }, previous });
    }
  }
}

function readKekFile(path: string): Buffer {
  try {
    return parseKek(readFileSync(path, 'utf8').trim());
  } catch (error) {
    throw new ConfigError(
      `Invalid configuration:\n  WALLET_ENCRYPTION_KEY_FILE: ${(error as Error).message}`,
    );
  }
}
