import type { ShortcutOptions, TDK } from '../client.js';

/** Calls one agent and answers its output: what every shortcut does. Absent fields are left out of the input. */
export const shortcuts =
  (tdk: TDK, agent: string) =>
  async <TOutput>(input: Record<string, unknown>, options?: ShortcutOptions): Promise<TOutput> =>
    (await tdk.call<TOutput>(agent, input, options)).output;
