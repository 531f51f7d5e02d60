import { parseArgs } from 'node:util';
import { connectDatabase, migrateToLatest } from '@tdk/db';
import { createTdk } from './compose';
import { type Config, ConfigError, loadConfig } from './config';

const usage = `Usage: tdk <command>

Commands:
  start     Start the TDK server (embedded defaults when nothing is configured)
  migrate   Apply pending database migrations and exit
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

async function main(argv: string[]): Promise<void> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: false });
  const command = positionals[0] ?? 'help';
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
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n\nSee .env.example for every setting and its default.\n`);
  } else {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
