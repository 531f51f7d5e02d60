#!/usr/bin/env node
// Behind the README's two commands, `npm start` and `npm test`: they must work on a fresh clone with
// only Node and npm, so this script brings the pinned pnpm and installs the workspace first.
// Node built-ins only: nothing else is installed yet when it runs.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const pnpmVersion = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).packageManager.split('@')[1];
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };

function pnpmCommand() {
  const found = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim() === pnpmVersion) return ['pnpm'];
  return ['npx', '--yes', `pnpm@${pnpmVersion}`];
}

const pnpm = pnpmCommand();

/** Runs a command to completion, or exits with its status. */
function run(args) {
  const [cmd, ...rest] = [...pnpm, ...args];
  const result = spawnSync(cmd, rest, { cwd: root, env, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** Runs the long-lived server in the foreground, passing Ctrl+C and SIGTERM through to it. */
function serve(args) {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

const command = process.argv[2];
run(['install', '--frozen-lockfile', '--prefer-offline', '--reporter=silent']);
if (command === 'start') {
  // The admin app the server serves at /admin: built once, then restored from turbo's cache.
  run(['turbo', 'run', 'build', '--filter=@tdk/admin', '--output-logs=errors-only']);
  serve(['apps/server/bin/tdk.mjs', 'start', ...process.argv.slice(3)]);
} else if (command === 'test') {
  run([
    'turbo',
    'run',
    'lint',
    'typecheck',
    'test',
    '--concurrency=2',
    '--output-logs=new-only',
    ...process.argv.slice(3),
  ]);
} else {
  process.stderr.write('usage: node scripts/run.mjs start|test\n');
  process.exit(2);
}
