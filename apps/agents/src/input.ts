import { badInput, type JsonObject } from './protocol';

/**
 * Readers for an agent's input fields. Each throws a 400 with a message naming the field, and
 * enforces the same limits the published input schemas state.
 */
export interface TextLimit {
  /** In code points, as JSON Schema's `maxLength` counts them. */
  maxChars: number;
  /** In UTF-8 bytes: what the value costs to keep. */
  maxBytes?: number;
  allowEmpty?: boolean;
}

export function readAction<A extends string>(input: JsonObject, actions: readonly A[]): A {
  const { action } = input;
  if (typeof action !== 'string' || !(actions as readonly string[]).includes(action)) {
    throw badInput(`action must be one of: ${actions.join(', ')}`);
  }
  return action as A;
}

/** Rejects fields the action does not take, as the schemas' `additionalProperties: false` does. */
export function onlyFields(input: JsonObject, allowed: readonly string[]): void {
  const unknown = Object.keys(input).find((name) => !allowed.includes(name));
  if (unknown === undefined) return;
  const forAction = typeof input.action === 'string' ? ` for action ${input.action}` : '';
  throw badInput(`unknown field "${unknown}"${forAction}`);
}

export function requiredText(input: JsonObject, name: string, limit: TextLimit): string {
  const value = optionalText(input, name, limit);
  if (value === undefined) throw badInput(`${name} is required for action ${input.action}`);
  return value;
}

export function optionalText(input: JsonObject, name: string, limit: TextLimit): string | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badInput(`${name} must be a string`);
  checkText(name, value, limit);
  return value;
}

export function optionalTextList(
  input: JsonObject,
  name: string,
  limit: { maxItems: number; item: TextLimit },
): string[] | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw badInput(`${name} must be an array of strings`);
  }
  if (value.length > limit.maxItems) throw badInput(`${name} takes at most ${limit.maxItems} items`);
  for (const item of value) checkText(`each of ${name}`, item, limit.item);
  return value;
}

function checkText(name: string, value: string, limit: TextLimit): void {
  if (value === '' && !limit.allowEmpty) throw badInput(`${name} must not be empty`);
  // The UTF-16 length bounds the code point count from above: count only when it might be over.
  if (value.length > limit.maxChars && codePoints(value) > limit.maxChars) {
    throw badInput(`${name} must be at most ${limit.maxChars} characters`);
  }
  if (limit.maxBytes !== undefined && Buffer.byteLength(value, 'utf8') > limit.maxBytes) {
    throw badInput(`${name} must be at most ${limit.maxBytes} bytes as UTF-8`);
  }
}

function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}
