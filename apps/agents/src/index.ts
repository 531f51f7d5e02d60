/**
 * The example agents TDK's embedded default runs and registers, as real HTTP agents speaking the
 * Tetto wire protocol: `memory` (the WarmMemory contract) and `answers` (WarmAnswers), plus test
 * fixtures (`slow`, `broken`, `invalid-output`) for TDK's own tests.
 */
export { answersAgent } from './answers';
export { MAX_DELAY_MS, testFixtures } from './fixtures';
export { memoryAgent } from './memory';
export type { AgentSpec, JsonObject, JsonSchema } from './protocol';
export { type AgentServer, type AgentServerOptions, startAgentServer } from './server';
