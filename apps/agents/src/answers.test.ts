import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnswersHandler, type TaughtAnswer } from './answers';
import { type AgentServer, startAgentServer } from './server';
import { createMapStore } from './store';
import { ALICE, BOB, caller } from './testing/http';

let server: AgentServer;
beforeAll(async () => {
  server = await startAgentServer();
});
afterAll(() => server.close());

const answers = (wallet: string) => caller(server.agents.answers, wallet);

async function teach(wallet: string, question: string, answer: string, tags?: string[]): Promise<string> {
  const reply = await answers(wallet)({ action: 'teach', question, answer, ...(tags ? { tags } : {}) });
  expect(reply.status).toBe(200);
  return String(reply.body.id);
}

describe('answers agent', () => {
  it('teaches, then answers the same question in other case and punctuation exactly', async () => {
    const taught = await answers('wallet-teach')({
      action: 'teach',
      question: 'How long is the refund window?',
      answer: '30 days.',
      tags: ['billing'],
    });
    expect(taught.body).toEqual({ ok: true, id: expect.any(String), created: true });

    const asked = await answers('wallet-teach')({
      action: 'ask',
      question: '  HOW long is the refund window ',
    });
    expect(asked.body).toEqual({
      found: true,
      id: taught.body.id,
      question: 'How long is the refund window?',
      answer: '30 days.',
      tags: ['billing'],
      score: 1,
      match: 'exact',
    });
  });

  it('teaching a known question again replaces it whole, keeping its id', async () => {
    const id = await teach('wallet-reteach', 'What is the SLA?', '99.9%', ['ops']);
    const again = await answers('wallet-reteach')({
      action: 'teach',
      question: 'what is the sla',
      answer: '99.99%',
    });
    expect(again.body).toEqual({ ok: true, id, created: false });
    const asked = await answers('wallet-reteach')({ action: 'ask', question: 'What is the SLA?' });
    expect(asked.body).toMatchObject({ id, question: 'what is the sla', answer: '99.99%', tags: [] });
  });

  it('answers other wordings with the highest word overlap, and its score', async () => {
    const wallet = 'wallet-overlap';
    await teach(wallet, 'How do I reset my password?', 'Use the reset link.');
    const refund = await teach(wallet, 'How long is the refund window?', '30 days.');
    const asked = await answers(wallet)({ action: 'ask', question: 'refund window length?' });
    // {refund, window, length} against {how, long, is, the, refund, window}: 2 shared of 7 words.
    expect(asked.body).toEqual({
      found: true,
      id: refund,
      question: 'How long is the refund window?',
      answer: '30 days.',
      tags: [],
      score: 2 / 7,
      match: 'overlap',
    });
  });

  it('finds nothing when no word matches, or for a wallet that taught nothing', async () => {
    await teach('wallet-nothing', 'What is the SLA?', '99.9%');
    const unrelated = await answers('wallet-nothing')({ action: 'ask', question: 'pricing tiers' });
    expect(unrelated.body).toEqual({ found: false, answer: null });
    const fresh = await answers('wallet-fresh')({ action: 'ask', question: 'What is the SLA?' });
    expect(fresh.body).toEqual({ found: false, answer: null });
  });

  it('breaks ties the same way every time: alphabetically first question, then id', async () => {
    const wallet = 'wallet-ties';
    await teach(wallet, 'red apples', 'B');
    await teach(wallet, 'green apples', 'A');
    for (let i = 0; i < 3; i++) {
      const asked = await answers(wallet)({ action: 'ask', question: 'apples' });
      expect(asked.body).toMatchObject({ question: 'green apples', answer: 'A', score: 0.5 });
    }
  });

  it('asks only among answers carrying every given tag', async () => {
    const wallet = 'wallet-tags';
    await teach(wallet, 'How do I get a refund?', 'Billing page.', ['billing', 'web']);
    await teach(wallet, 'How do I get a refund in the app?', 'Settings screen.', ['billing', 'mobile']);
    const mobile = await answers(wallet)({
      action: 'ask',
      question: 'How do I get a refund?',
      tags: ['mobile'],
    });
    expect(mobile.body).toMatchObject({ answer: 'Settings screen.', match: 'overlap' });
    const both = await answers(wallet)({ action: 'ask', question: 'refund', tags: ['billing', 'web'] });
    expect(both.body).toMatchObject({ answer: 'Billing page.' });
    const none = await answers(wallet)({ action: 'ask', question: 'refund', tags: ['desktop'] });
    expect(none.body).toEqual({ found: false, answer: null });
  });

  it('updates an answer by id or by question; tags stay unless given', async () => {
    const wallet = 'wallet-update';
    const id = await teach(wallet, 'Who is on call?', 'Ada', ['ops']);
    expect((await answers(wallet)({ action: 'update', id, answer: 'Grace' })).body).toEqual({
      updated: true,
      id,
    });
    expect((await answers(wallet)({ action: 'ask', question: 'Who is on call?' })).body).toMatchObject({
      answer: 'Grace',
      tags: ['ops'],
    });

    const byQuestion = await answers(wallet)({
      action: 'update',
      question: 'who is ON CALL',
      answer: 'Linus',
      tags: ['ops', 'weekend', 'ops'],
    });
    expect(byQuestion.body).toEqual({ updated: true, id });
    expect((await answers(wallet)({ action: 'ask', question: 'Who is on call?' })).body).toMatchObject({
      answer: 'Linus',
      tags: ['ops', 'weekend'],
    });

    const missing = await answers(wallet)({ action: 'update', id: 'no-such-id', answer: 'x' });
    expect(missing.body).toEqual({ updated: false, id: null });
    const missingQuestion = await answers(wallet)({ action: 'update', question: 'Who is off?', answer: 'x' });
    expect(missingQuestion.body).toEqual({ updated: false, id: null });
  });

  it('forgets by id or by question', async () => {
    const wallet = 'wallet-forget';
    const first = await teach(wallet, 'First question?', 'one');
    const second = await teach(wallet, 'Second question?', 'two');
    expect((await answers(wallet)({ action: 'forget', id: first })).body).toEqual({
      forgotten: true,
      id: first,
    });
    expect((await answers(wallet)({ action: 'forget', question: 'second QUESTION' })).body).toEqual({
      forgotten: true,
      id: second,
    });
    expect((await answers(wallet)({ action: 'forget', id: first })).body).toEqual({
      forgotten: false,
      id: null,
    });
    expect((await answers(wallet)({ action: 'ask', question: 'first question' })).body).toEqual({
      found: false,
      answer: null,
    });
  });

  it("keeps each caller wallet's answers apart", async () => {
    const alice = await teach(ALICE, 'What is our motto?', 'alice motto');
    expect((await answers(BOB)({ action: 'ask', question: 'What is our motto?' })).body.found).toBe(false);
    expect((await answers(BOB)({ action: 'forget', id: alice })).body).toEqual({
      forgotten: false,
      id: null,
    });
    expect((await answers(BOB)({ action: 'update', id: alice, answer: 'x' })).body).toEqual({
      updated: false,
      id: null,
    });

    const bob = await teach(BOB, 'What is our motto?', 'bob motto');
    expect(bob).not.toBe(alice);
    expect((await answers(ALICE)({ action: 'ask', question: 'What is our motto?' })).body.answer).toBe(
      'alice motto',
    );
    expect((await answers(BOB)({ action: 'ask', question: 'What is our motto?' })).body.answer).toBe(
      'bob motto',
    );
  });

  it.each([
    [
      'an unknown action',
      { action: 'learn', question: 'q', answer: 'a' },
      'action must be one of: teach, ask',
    ],
    ['teach without answer', { action: 'teach', question: 'q' }, 'answer is required'],
    [
      'teach with an empty answer',
      { action: 'teach', question: 'q', answer: '' },
      'answer must not be empty',
    ],
    ['a question without words', { action: 'teach', question: '?!', answer: 'a' }, 'a letter or a digit'],
    ['ask without question', { action: 'ask' }, 'question is required'],
    [
      'tags that are not strings',
      { action: 'ask', question: 'q', tags: [1] },
      'tags must be an array of strings',
    ],
    [
      'too many tags',
      { action: 'ask', question: 'q', tags: Array.from({ length: 21 }, String) },
      'at most 20',
    ],
    ['an empty tag', { action: 'ask', question: 'q', tags: [''] }, 'each of tags must not be empty'],
    ['update by id and question', { action: 'update', id: 'x', question: 'q', answer: 'a' }, 'exactly one'],
    ['forget naming nothing', { action: 'forget' }, 'exactly one of id and question'],
    ['a question over 1,000 characters', { action: 'ask', question: 'q'.repeat(1001) }, 'at most 1000'],
    [
      'a field the action does not take',
      { action: 'ask', question: 'q', answer: 'a' },
      'unknown field "answer"',
    ],
  ])('answers 400 to %s', async (_, input, message) => {
    const reply = await answers(ALICE)(input);
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ error: expect.stringContaining(message) });
  });
});

describe('answers agent limits on counts', () => {
  it('holds at most 10,000 answers per caller', async () => {
    // Filled straight into the store: 10,000 HTTP calls would take seconds for nothing more.
    const store = createMapStore<TaughtAnswer>();
    for (let i = 0; i < 10_000; i++) {
      await store.set(ALICE, `id-${i}`, { question: `question ${i}`, answer: 'a', tags: [] }, 10_000);
    }
    const handler = createAnswersHandler(store);
    const call = { callerWallet: ALICE, signal: new AbortController().signal };
    await expect(handler({ action: 'teach', question: 'one more', answer: 'a' }, call)).rejects.toMatchObject(
      {
        status: 400,
        message: expect.stringContaining('10000 answers'),
      },
    );
    // Teaching a known question replaces it, so it still fits.
    await expect(handler({ action: 'teach', question: 'Question 7', answer: 'b' }, call)).resolves.toEqual({
      ok: true,
      id: 'id-7',
      created: false,
    });
  });
});
