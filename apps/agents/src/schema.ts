import type { JsonSchema } from './protocol';

/**
 * Builders for the agents' JSON Schemas. Both agents take a discriminated input: one branch per
 * `action`, each closed (`additionalProperties: false`), so a schema validator rejects an unknown
 * action, a missing field, or a field the action does not take.
 */
export function actionBranch(
  action: string,
  fields: Record<string, JsonSchema>,
  required: string[],
): JsonSchema {
  return {
    type: 'object',
    properties: { action: { const: action }, ...fields },
    required: ['action', ...required],
    additionalProperties: false,
  };
}

/** A closed object whose every property is required. */
export function closedObject(properties: Record<string, JsonSchema>, description?: string): JsonSchema {
  return {
    type: 'object',
    ...(description === undefined ? {} : { description }),
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  };
}

export const nullableString: JsonSchema = { anyOf: [{ type: 'string' }, { type: 'null' }] };
