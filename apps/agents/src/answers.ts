import {
  onlyFields,
  optionalText,
  optionalTextList,
  readAction,
  requiredText,
  type TextLimit,
} from './input';
import { bestMatch, phrase, words } from './match';
import { type AgentHandler, type AgentSpec, badInput, type JsonObject } from './protocol';
import { actionBranch, closedObject, nullableString } from './schema';
import type { PartitionedStore } from './store';

/**
 * The answers agent, the WarmAnswers contract: questions and their answers, one set per caller wallet.
 *
 *   teach  { question, answer, tags? }       → { ok: true, id, created }
 *            (a question already known, by its words, is replaced whole, keeping its id: created false)
 *   ask    { question, tags? }               → { found: true, id, question, answer, tags, score, match }
 *                                               | { found: false, answer: null }
 *            (only answers carrying every given tag; match 'exact' scores 1, else word overlap 0–1)
 *   update { id | question, answer, tags? }  → { updated, id: string | null }   (tags kept unless given)
 *   forget { id | question }                 → { forgotten, id: string | null }
 */
export interface TaughtAnswer {
  question: string;
  answer: string;
  tags: string[];
}

const ACTIONS = ['teach', 'ask', 'update', 'forget'] as const;
const QUESTION: TextLimit = { maxChars: 1000 };
const ANSWER: TextLimit = { maxChars: 64 * 1024, maxBytes: 64 * 1024 };
const TAGS = { maxItems: 20, item: { maxChars: 64 } satisfies TextLimit };
const ID: TextLimit = { maxChars: 64 };
const MAX_ANSWERS = 10_000;

const id = { type: 'string', minLength: 1, maxLength: ID.maxChars };
const question = {
  type: 'string',
  minLength: 1,
  maxLength: QUESTION.maxChars,
  description: 'At most 1,000 characters.',
};
const answer = {
  type: 'string',
  minLength: 1,
  maxLength: ANSWER.maxChars,
  description: 'At most 64 KiB as UTF-8.',
};
const tags = {
  type: 'array',
  items: { type: 'string', minLength: 1, maxLength: TAGS.item.maxChars },
  maxItems: TAGS.maxItems,
};

export const answersAgent: AgentSpec = {
  name: 'answers',
  description:
    'Question-and-answer memory (the WarmAnswers contract): teach answers to questions, then ask in ' +
    'other words and get the best stored answer with its match score. Each caller wallet has its own answers.',
  token: 'USDC',
  priceBase: 10_000n,
  priceDisplay: '$0.01',
  agentType: 'simple',
  inputSchema: {
    title: 'WarmAnswers input',
    type: 'object',
    properties: { action: { enum: [...ACTIONS] } },
    required: ['action'],
    oneOf: [
      actionBranch('teach', { question, answer, tags }, ['question', 'answer']),
      actionBranch('ask', { question, tags }, ['question']),
      // update and forget name their target by id or by question, never both.
      actionBranch('update', { id, answer, tags }, ['id', 'answer']),
      actionBranch('update', { question, answer, tags }, ['question', 'answer']),
      actionBranch('forget', { id }, ['id']),
      actionBranch('forget', { question }, ['question']),
    ],
  },
  outputSchema: {
    title: 'WarmAnswers output',
    oneOf: [
      closedObject({ ok: { const: true }, id, created: { type: 'boolean' } }, 'teach'),
      closedObject(
        {
          found: { const: true },
          id,
          question,
          answer,
          tags,
          score: { type: 'number', minimum: 0, maximum: 1 },
          match: { enum: ['exact', 'overlap'] },
        },
        'ask, answered',
      ),
      closedObject({ found: { const: false }, answer: { type: 'null' } }, 'ask, nothing matches'),
      closedObject({ updated: { type: 'boolean' }, id: nullableString }, 'update'),
      closedObject({ forgotten: { type: 'boolean' }, id: nullableString }, 'forget'),
    ],
  },
  exampleInputs: [
    {
      action: 'teach',
      question: 'How long is the refund window?',
      answer: '30 days from delivery.',
      tags: ['billing'],
    },
    { action: 'ask', question: 'how long do I have for a refund' },
    { action: 'update', question: 'How long is the refund window?', answer: '45 days from delivery.' },
    { action: 'forget', question: 'How long is the refund window?' },
  ],
};

export function createAnswersHandler(store: PartitionedStore<TaughtAnswer>): AgentHandler {
  return async (input, { callerWallet }) => {
    const action = readAction(input, ACTIONS);
    switch (action) {
      case 'teach': {
        onlyFields(input, ['action', 'question', 'answer', 'tags']);
        const question = requiredText(input, 'question', QUESTION);
        if (words(question).length === 0) throw badInput('question must contain a letter or a digit');
        const taught = {
          question,
          answer: requiredText(input, 'answer', ANSWER),
          tags: readTags(input) ?? [],
        };
        const known = await findByQuestion(store, callerWallet, question);
        const id = known?.[0] ?? crypto.randomUUID();
        if (!(await store.set(callerWallet, id, taught, MAX_ANSWERS))) {
          throw badInput(
            `this wallet already holds ${MAX_ANSWERS} answers: forget some before teaching new ones`,
          );
        }
        return { ok: true, id, created: known === undefined };
      }
      case 'ask': {
        onlyFields(input, ['action', 'question', 'tags']);
        const question = requiredText(input, 'question', QUESTION);
        const wanted = readTags(input) ?? [];
        const candidates = (await store.entries(callerWallet))
          .filter(([, taught]) => wanted.every((tag) => taught.tags.includes(tag)))
          .map(([id, taught]) => ({ id, ...taught }));
        const best = bestMatch(question, candidates);
        if (best === undefined) return { found: false, answer: null };
        const { candidate, score, exact } = best;
        return { found: true, ...candidate, score, match: exact ? 'exact' : 'overlap' };
      }
      case 'update': {
        onlyFields(input, ['action', 'id', 'question', 'answer', 'tags']);
        const answer = requiredText(input, 'answer', ANSWER);
        const newTags = readTags(input);
        const target = await findTarget(store, callerWallet, input);
        if (target === undefined) return { updated: false, id: null };
        const [id, taught] = target;
        await store.set(callerWallet, id, { ...taught, answer, tags: newTags ?? taught.tags }, MAX_ANSWERS);
        return { updated: true, id };
      }
      case 'forget': {
        onlyFields(input, ['action', 'id', 'question']);
        const target = await findTarget(store, callerWallet, input);
        if (target === undefined) return { forgotten: false, id: null };
        return { forgotten: await store.delete(callerWallet, target[0]), id: target[0] };
      }
    }
  };
}

function readTags(input: JsonObject): string[] | undefined {
  const given = optionalTextList(input, 'tags', TAGS);
  return given && [...new Set(given)];
}

type Entry = [id: string, taught: TaughtAnswer];

/** update and forget: the entry named by `id` or by `question` (exactly one of them). */
async function findTarget(
  store: PartitionedStore<TaughtAnswer>,
  wallet: string,
  input: JsonObject,
): Promise<Entry | undefined> {
  const id = optionalText(input, 'id', ID);
  const question = optionalText(input, 'question', QUESTION);
  if (question !== undefined && id === undefined) return findByQuestion(store, wallet, question);
  if (id !== undefined && question === undefined) {
    const taught = await store.get(wallet, id);
    return taught && [id, taught];
  }
  throw badInput(`action ${input.action} takes exactly one of id and question`);
}

async function findByQuestion(
  store: PartitionedStore<TaughtAnswer>,
  wallet: string,
  question: string,
): Promise<Entry | undefined> {
  const wanted = phrase(question);
  return (await store.entries(wallet)).find(([, taught]) => phrase(taught.question) === wanted);
}
