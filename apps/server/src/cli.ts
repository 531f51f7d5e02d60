import { parseArgs } from 'node:util';
import { ensureAdmin, reconcile as reconcileAll, rewrapWalletKeys } from '@tdk/api';
import { AppError } from '@tdk/core';
import { connectDatabase, migrateToLatest } from '@tdk/db';
import { createTdk, type Tdk } from './compose';
import { type Config, ConfigError, loadConfig } from './config';

const usage = `Usage: tdk <command>

Commands:
  start     Start the TDK server (embedded defaults when nothing is configured)
  migrate   Apply pending database migrations and exit
  reconcile [YYYY-MM]
            Ledger vs chain per wallet; calls vs ledger vs Stripe per account for the month
            (default: this one); exit 1 on any difference
  vault rotate
            Re-wrap every wallet key under the current WALLET_ENCRYPTION_KEY (resumable)
  admin create --email <email> [--password <password>]
            Create an admin account, or promote an existing account (and set its password)
  help      Show this help

Configuration comes from environment variables; see .env.example.`;

async function start(config: Config): Promise<void> {
  const tdk = await createTdk(config);
  const url = await tdk.listen();
  tdk.logger.info({ url, database: config.database.kind, instance: tdk.services.instance.id }, 'TDK started');
  process.stdout.write(
    [
      '',
      `  TDK is running (instance ${tdk.services.instance.id}, database: ${config.database.kind})`,
      '',
      `  Admin app  ${url}/admin`,
      `  API        ${url}/api/tdk`,
      `  API docs   ${url}/docs`,
      `  OpenAPI    ${url}/api/openapi.json`,
      `  tRPC       ${url}/trpc`,
      `  Health     ${url}/healthz  ${url}/readyz`,
      `  Metrics    ${url}/metrics`,
      '',
      ...(tdk.firstAdmin
        ? [
            `  Admin account  ${tdk.firstAdmin.email}`,
            ...(tdk.firstAdmin.generatedPassword
              ? [
                  `  Admin password ${tdk.firstAdmin.generatedPassword}   (shown once; \`pnpm tdk admin create\` sets another)`,
                ]
              : []),
            '',
          ]
        : []),
      '  Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    tdk.logger.info({ signal }, 'shutting down');
    tdk.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        tdk.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

async function migrate(config: Config): Promise<void> {
  const database = await connectDatabase(config.database);
  try {
    const { applied } = await migrateToLatest(database.db);
    process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Database is up to date.\n');
  } finally {
    await database.close();
  }
}

async function admin(config: Config, args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { email: { type: 'string' }, password: { type: 'string' } },
  });
  if (positionals[0] !== 'create' || !values.email) {
    throw new UsageError('Usage: tdk admin create --email <email> [--password <password>]');
  }
  const database = await connectDatabase(config.database);
  try {
    await migrateToLatest(database.db);
    const result = await ensureAdmin(database.db, {
      email: values.email,
      ...(values.password ? { password: values.password } : {}),
    });
    process.stdout.write(
      `${result.created ? 'Created' : 'Promoted'} admin ${result.email} (${result.userId}).\n`,
    );
    if (result.generatedPassword) process.stdout.write(`Password: ${result.generatedPassword}\n`);
  } finally {
    await database.close();
  }
}

/** Runs `work` against a fully composed TDK that serves no HTTP (the embedded database allows one process). */
async function withTdk(config: Config, work: (tdk: Tdk) => Promise<void>): Promise<void> {
  // A one-off command: no background jobs in this process.
  const tdk = await createTdk({
    ...config,
    log: { level: 'warn' },
    worker: { ...config.worker, enabled: false },
  });
  try {
    await work(tdk);
  } finally {
    await tdk.stop();
  }
}

async function reconcile(config: Config, args: string[]): Promise<void> {
  const period = args[0];
  if (period !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(period)) {
    throw new UsageError('Usage: tdk reconcile [YYYY-MM]');
  }
  await withTdk(config, async (tdk) => {
    const report = await reconcileAll(tdk.services, period);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (report.differences.length > 0 || report.usage.differences.length > 0) process.exitCode = 1;
  });
}

async function vault(config: Config, args: string[]): Promise<void> {
  if (args[0] !== 'rotate') throw new UsageError('Usage: tdk vault rotate');
  await withTdk(config, async (tdk) => {
    const { rewrapped } = await rewrapWalletKeys(tdk.services, {
      onProgress: (done) => process.stdout.write(`re-wrapped ${done}\n`),
    });
    process.stdout.write(
      `Done: ${rewrapped} wallet keys now under KEK version ${tdk.services.vault.currentVersion}.\n`,
    );
  });
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: false });
  const command = positionals[0] ?? 'help';
  if (command === 'admin') {
    await admin(loadConfig(), argv.slice(1));
    return;
  }
  if (command === 'vault') {
    await vault(loadConfig(), argv.slice(1));
    return;
  }
  if (command === 'help' || command === '--help') {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const commands: Record<string, (config: Config, args: string[]) => Promise<void>> = {
    start,
    migrate,
    reconcile,
  };
  const run = commands[command];
  if (!run) {
    process.stderr.write(`Unknown command "${command}".\n\n${usage}\n`);
    process.exitCode = 2;
    return;
  }
  await run(loadConfig(), argv.slice(1));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError || (err instanceof AppError && err.status < 500)) {
    process.stderr.write(`${err.message}\n`);
  } else if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n\nSee .env.example for every setting and its default.\n`);
  } else {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
