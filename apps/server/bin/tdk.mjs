#!/usr/bin/env node
// The `tdk` command: loads the TypeScript CLI in this same process through tsx, so no build step
// stands between a fresh clone and a running server, and signals reach the server directly.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
