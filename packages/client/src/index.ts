/**
 * @tdk/client: call paid AI agents with one API key.
 *
 * ```ts
 * import { TDK } from '@tdk/client';
 * const tdk = new TDK({ apiKey: process.env.TDK_API_KEY });
 * const { output, cost } = await tdk.call('memory', { action: 'list' });
 * ```
 */
import { TDK } from './client.js';
import { answers } from './plugins/answers.js';
import { memory } from './plugins/memory.js';

TDK.use(memory).use(answers);

// `export *`, not a list: TypeScript merges a user's `declare module '@tdk/client'` into `TDK` only so.
export * from './client.js';
export {
  AgentError,
  AuthenticationError,
  ConflictError,
  ConnectionError,
  type ErrorInit,
  InsufficientFundsError,
  InvalidInputError,
  NotFoundError,
  PermissionError,
  QuotaExceededError,
  RateLimitError,
  TDKError,
  TimeoutError,
  type ValidationIssue,
} from './errors.js';
export * from './plugins/answers.js';
export * from './plugins/memory.js';
export type * from './types.js';
