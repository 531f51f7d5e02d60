import type { JsonSchema } from '@tdk/core';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; under ESM its function sits on `default`.
const addFormats =
  (addFormatsModule as unknown as { default: typeof addFormatsModule }).default ?? addFormatsModule;

export interface SchemaIssue {
  path: string;
  message: string;
}

/**
 * Validates agent inputs and outputs against their JSON Schemas (ajv), compiling each schema once.
 * Keyed by the schema text, so an agent whose schema changes gets a fresh validator.
 */
export function createSchemaValidator(): { validate(schema: JsonSchema, value: unknown): SchemaIssue[] } {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const compiled = new Map<string, ValidateFunction>();
  return {
    validate(schema, value) {
      const text = JSON.stringify(schema);
      let check = compiled.get(text);
      if (!check) {
        check = ajv.compile(schema);
        compiled.set(text, check);
      }
      return check(value) ? [] : (check.errors ?? []).slice(0, 20).map(toIssue);
    },
  };
}

const toIssue = (error: ErrorObject): SchemaIssue => ({
  path: error.instancePath || '/',
  message: error.message ?? 'is not valid',
});
