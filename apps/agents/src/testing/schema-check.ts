import { isDeepStrictEqual } from 'node:util';
import { isObject, type JsonSchema } from '../protocol';

/**
 * A minimal JSON Schema check for tests (the package keeps no dependencies, so no ajv): exactly the
 * keywords the agents' schemas use. Any other keyword throws, so a schema that grows past this
 * subset fails its tests instead of passing unchecked.
 */
export function matchesSchema(schema: JsonSchema, value: unknown): boolean {
  return Object.entries(schema).every(([keyword, argument]) => check(schema, keyword, argument, value));
}

function check(schema: JsonSchema, keyword: string, argument: unknown, value: unknown): boolean {
  const object = isObject(value) ? value : undefined;
  switch (keyword) {
    case 'title':
    case 'description':
      return true;
    case 'type':
      return argument === typeOf(value) || (argument === 'number' && typeof value === 'number');
    case 'const':
      return isDeepStrictEqual(value, argument);
    case 'enum':
      return (argument as unknown[]).some((option) => isDeepStrictEqual(value, option));
    case 'oneOf':
      return (argument as JsonSchema[]).filter((branch) => matchesSchema(branch, value)).length === 1;
    case 'anyOf':
      return (argument as JsonSchema[]).some((branch) => matchesSchema(branch, value));
    case 'required':
      return !object || (argument as string[]).every((name) => Object.hasOwn(object, name));
    case 'properties':
      return (
        !object ||
        Object.entries(argument as Record<string, JsonSchema>).every(
          ([name, property]) => !Object.hasOwn(object, name) || matchesSchema(property, object[name]),
        )
      );
    case 'additionalProperties':
      if (argument !== false) throw new Error('schema check: additionalProperties must be false');
      return !object || Object.keys(object).every((name) => Object.hasOwn(schema.properties ?? {}, name));
    case 'items':
      return !Array.isArray(value) || value.every((item) => matchesSchema(argument as JsonSchema, item));
    case 'maxItems':
      return !Array.isArray(value) || value.length <= (argument as number);
    case 'minLength':
      return typeof value !== 'string' || [...value].length >= (argument as number);
    case 'maxLength':
      return typeof value !== 'string' || [...value].length <= (argument as number);
    case 'minimum':
      return typeof value !== 'number' || value >= (argument as number);
    case 'maximum':
      return typeof value !== 'number' || value <= (argument as number);
    default:
      throw new Error(`schema check: unsupported keyword ${keyword}`);
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Number.isInteger(value)) return 'integer';
  return typeof value;
}
