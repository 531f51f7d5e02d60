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
 * Keyed by the schema text, so an agent whose schema changes gets a fresh validator; and by the
 * schema object too, as the cached agent listings hand the same one to every call (writing it out
 * as text for each call was ~1% of a paid call's CPU).
 */
export function createSchemaValidator(): { validate(schema: JsonSchema, value: unknown): SchemaIssue[] } {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const byText = new Map<string, ValidateFunction>();
  const byObject = new WeakMap<JsonSchema, ValidateFunction>();
  const compiled = (schema: JsonSchema): ValidateFunction => {
    let check = byObject.get(schema);
    if (check) return check;
    const text = JSON.stringify(schema);
    check = byText.get(text) ?? ajv.compile(schema);
    byText.set(text, check);
    byObject.set(schema, check);
    return check;
  };
  return {
    validate(schema, value) {
      const check = compiled(schema);
      return check(value) ? [] : issuesOf(check.errors ?? []);
    },
  };
}

/**
 * Each issue once, at most 20: with `allErrors`, every branch of a `oneOf` reports the same
 * mismatch again ("must be object" five times for one missing value).
 */
function issuesOf(errors: ErrorObject[]): SchemaIssue[] {
  const seen = new Map<string, SchemaIssue>();
  for (const error of errors) {
    const issue = { path: error.instancePath || '/', message: error.message ?? 'is not valid' };
    seen.set(`${issue.path}\n${issue.message}`, issue);
  }
  return [...seen.values()].slice(0, 20);
}
