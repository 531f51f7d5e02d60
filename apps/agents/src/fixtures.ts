import { setTimeout as sleep } from 'node:timers/promises';
import { onlyFields } from './input';
import { AgentError, type AgentHandler, type AgentSpec, badInput } from './protocol';
import { closedObject } from './schema';

/**
 * TEST FIXTURES, not agents to pay for: they let TDK's own tests see how it handles an agent that is
 * slow, fails, or breaks its output schema. The agent server hosts them beside the real agents.
 *
 *   slow            { delay_ms? } → { slept_ms } after the delay (default: the server's `slowMs`;
 *                                   at most 5 minutes), to test agent timeouts
 *   broken          anything      → 500 { error }
 *   invalid-output  anything      → 200 { result: 42 }, which its output schema (result: string) rejects
 */
export const MAX_DELAY_MS = 5 * 60_000;

function fixture(
  name: string,
  description: string,
  schemas: Pick<AgentSpec, 'inputSchema' | 'outputSchema' | 'exampleInputs'>,
): AgentSpec {
  return {
    name,
    description: `Test fixture: ${description}`,
    token: 'USDC',
    priceBase: 1000n,
    priceDisplay: '$0.001',
    agentType: 'simple',
    ...schemas,
  };
}

const anyObject = { type: 'object' };

export const testFixtures = {
  slow: fixture('slow', 'answers after input.delay_ms (at most 5 minutes).', {
    inputSchema: {
      type: 'object',
      properties: { delay_ms: { type: 'integer', minimum: 0, maximum: MAX_DELAY_MS } },
      additionalProperties: false,
    },
    outputSchema: closedObject({ slept_ms: { type: 'integer', minimum: 0 } }),
    exampleInputs: [{ delay_ms: 100 }],
  }),
  broken: fixture('broken', 'always fails with a 500.', {
    inputSchema: anyObject,
    outputSchema: anyObject,
    exampleInputs: [{}],
  }),
  invalidOutput: fixture('invalid-output', 'answers 200 with output its own output schema rejects.', {
    inputSchema: anyObject,
    outputSchema: closedObject({ result: { type: 'string' } }),
    exampleInputs: [{}],
  }),
} satisfies Record<string, AgentSpec>;

export function createSlowHandler(defaultDelayMs: number): AgentHandler {
  return async (input, { signal }) => {
    onlyFields(input, ['delay_ms']);
    const delay = input.delay_ms ?? defaultDelayMs;
    if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > MAX_DELAY_MS) {
      throw badInput(`delay_ms must be an integer from 0 to ${MAX_DELAY_MS}`);
    }
    await sleep(delay, undefined, { signal });
    return { slept_ms: delay };
  };
}

export const brokenHandler: AgentHandler = async () => {
  throw new AgentError(500, 'broken on purpose (test fixture)');
};

export const invalidOutputHandler: AgentHandler = async () => ({ result: 42 });
