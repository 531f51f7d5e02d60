import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answersAgent, MAX_DELAY_MS, memoryAgent, testFixtures } from './index';
import { type AgentServer, startAgentServer } from './server';
import { caller } from './testing/http';
import { matchesSchema } from './testing/schema-check';

let server: AgentServer;
beforeAll(async () => {
  server = await startAgentServer();
});
afterAll(() => server.close());

describe('listings', () => {
  it('carry what the server registers', () => {
    expect(memoryAgent).toMatchObject({
      name: 'memory',
      priceBase: 1000n,
      token: 'USDC',
      agentType: 'simple',
    });
    expect(answersAgent).toMatchObject({
      name: 'answers',
      priceBase: 10_000n,
      token: 'USDC',
      agentType: 'simple',
    });
    expect(testFixtures.slow.inputSchema).toMatchObject({
      properties: { delay_ms: { maximum: MAX_DELAY_MS } },
    });
  });

  it.each([
    memoryAgent,
    answersAgent,
    ...Object.values(testFixtures),
  ])('$name: the example inputs satisfy the input schema', (agent) => {
    expect(agent.exampleInputs.length).toBeGreaterThan(0);
    for (const input of agent.exampleInputs) expect(matchesSchema(agent.inputSchema, input)).toBe(true);
  });

  it.each([
    [memoryAgent, () => server.agents.memory],
    [answersAgent, () => server.agents.answers],
  ])('$name: the example inputs, run in order, give output its schema accepts', async (agent, url) => {
    const outputs = [];
    for (const input of agent.exampleInputs) {
      const reply = await caller(url(), 'wallet-examples')(input);
      expect(reply.status).toBe(200);
      expect(matchesSchema(agent.outputSchema, reply.body)).toBe(true);
      outputs.push(reply.body);
    }
    // The examples tell a story: what was stored or taught is then found.
    expect(outputs[1]).toMatchObject({ found: true });
  });
});

/** Inputs the schema and the agent must judge alike: valid ones answer 200, the rest 400. */
const memoryCases: Array<[unknown, boolean]> = [
  [{ action: 'store', key: 'k', value: 'v' }, true],
  [{ action: 'store', key: 'k', value: '' }, true],
  [{ action: 'list' }, true],
  [{ action: 'list', prefix: '' }, true],
  [{ action: 'delete', key: 'k' }, true],
  [{ action: 'retrieve', key: 'k'.repeat(256) }, true],
  [{}, false],
  [{ action: 'forget', key: 'k' }, false],
  [{ action: 'store', key: 'k' }, false],
  [{ action: 'store', value: 'v' }, false],
  [{ action: 'store', key: 'k', value: 42 }, false],
  [{ action: 'store', key: 'k', value: null }, false],
  [{ action: 'store', key: '', value: 'v' }, false],
  [{ action: 'retrieve', key: 'k'.repeat(257) }, false],
  [{ action: 'retrieve', key: 'k', prefix: 'p' }, false],
  [{ action: 'list', prefix: ['p'] }, false],
];

const answersCases: Array<[unknown, boolean]> = [
  [{ action: 'teach', question: 'Why?', answer: 'Because.' }, true],
  [{ action: 'teach', question: 'Why?', answer: 'Because.', tags: ['a', 'b'] }, true],
  [{ action: 'ask', question: 'why', tags: [] }, true],
  [{ action: 'update', id: 'x', answer: 'a' }, true],
  [{ action: 'update', question: 'Why?', answer: 'a', tags: ['c'] }, true],
  [{ action: 'forget', id: 'x' }, true],
  [{ action: 'forget', question: 'Why?' }, true],
  [{ action: 'store', key: 'k', value: 'v' }, false],
  [{ action: 'teach', question: 'Why?' }, false],
  [{ action: 'teach', question: 'Why?', answer: 1 }, false],
  [{ action: 'ask', question: '' }, false],
  [{ action: 'ask', question: 'why', tags: 'a' }, false],
  [{ action: 'ask', question: 'why', tags: ['x'.repeat(65)] }, false],
  [{ action: 'update', answer: 'a' }, false],
  [{ action: 'update', id: 'x', question: 'Why?', answer: 'a' }, false],
  [{ action: 'update', id: 'x' }, false],
  [{ action: 'forget' }, false],
  [{ action: 'forget', id: 'x', answer: 'a' }, false],
];

describe.each([
  [memoryAgent, memoryCases, () => server.agents.memory],
  [answersAgent, answersCases, () => server.agents.answers],
])('$name: schema and agent agree', (agent, cases, url) => {
  it.each(cases)('%j valid: %s', async (input, valid) => {
    expect(matchesSchema(agent.inputSchema, input)).toBe(valid);
    const reply = await caller(url(), 'wallet-agreement')(input);
    expect(reply.status).toBe(valid ? 200 : 400);
    if (valid) expect(matchesSchema(agent.outputSchema, reply.body)).toBe(true);
    else expect(reply.body).toEqual({ error: expect.any(String) });
  });
});
