import { parseArgs } from 'node:util';
import { ensureAdmin } from '@tdk/api';
import { AppError } from '@tdk/core';
import { connectDatabase, migrateToLatest } from '@tdk/db';
import { createTdk } from './compose';
import { type Config, ConfigError, loadConfig } from './config';

const usage = `Usage: tdk <command>

Commands:
  start     Start the TDK server (embedded defaults when nothing is configured)
  migrate   Apply pending database migrations and exit
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

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: false });
  const command = positionals[0] ?? 'help';
  if (command === 'admin') {
    await admin(loadConfig(), argv.slice(1));
    return;
  }
  if (command === 'help' || command === '--help') {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const commands: Record<string, (config: Config) => Promise<void>> = { start, migrate };
  const run = commands[command];
  if (!run) {
    process.stderr.write(`Unknown command "${command}".\n\n${usage}\n`);
    process.exitCode = 2;
    return;
  }
  await run(loadConfig());
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
