import type { ShortcutOptions, TDKPlugin } from '../client.js';
import { shortcuts } from './shortcuts.js';

/** `teach`: the answer's id; `created` is false when the question was known and its answer replaced. */
export interface AnswerTaught {
  ok: true;
  id: string;
  created: boolean;
}

/** `ask`: the best stored answer with its score (1 for an exact match, else the words' overlap), or none. */
export type AnswerFound =
  | {
      found: true;
      id: string;
      question: string;
      answer: string;
      tags: string[];
      score: number;
      match: 'exact' | 'overlap';
    }
  | { found: false; answer: null };

/** `update`: whether the answer existed, and its id. */
export interface AnswerUpdated {
  updated: boolean;
  id: string | null;
}

/** `forget`: whether the answer existed, and its id. */
export interface AnswerForgotten {
  forgotten: boolean;
  id: string | null;
}

/** A stored answer, named by its id or by its question. */
export type AnswerTarget = { id: string } | { question: string };

/** Tags: `teach` files the answer under them; `ask` looks only at answers carrying all of them. */
export interface TagOptions extends ShortcutOptions {
  tags?: string[] | undefined;
}

/**
 * The `answers` agent: teach answers to questions, then ask in other words and get the best match.
 * One set per API key's wallet. Each method is one paid call.
 */
export interface AnswersShortcuts {
  /** Stores `answer` to `question` (replacing the answer to the same question). */
  teach(question: string, answer: string, options?: TagOptions): Promise<AnswerTaught>;
  /** The best stored answer to `question`, if any. */
  ask(question: string, options?: TagOptions): Promise<AnswerFound>;
  /** Replaces a stored answer (and its tags, when given). */
  update(target: AnswerTarget, answer: string, options?: TagOptions): Promise<AnswerUpdated>;
  /** Deletes a stored answer. */
  forget(target: AnswerTarget, options?: ShortcutOptions): Promise<AnswerForgotten>;
}

declare module '../client.js' {
  interface TDK {
    /** Shortcuts for the `answers` agent: `teach`, `ask`, `update`, `forget`. */
    readonly answers: AnswersShortcuts;
  }
}

/** The `tdk.answers` plugin, installed by default. */
export const answers: TDKPlugin<'answers'> = {
  name: 'answers',
  install(tdk) {
    const run = shortcuts(tdk, 'answers');
    return {
      teach: (question, answer, { tags, ...options } = {}) =>
        run({ action: 'teach', question, answer, tags }, options),
      ask: (question, { tags, ...options } = {}) => run({ action: 'ask', question, tags }, options),
      update: (target, answer, { tags, ...options } = {}) =>
        run({ action: 'update', ...target, answer, tags }, options),
      forget: (target, options) => run({ action: 'forget', ...target }, options),
    };
  },
};
