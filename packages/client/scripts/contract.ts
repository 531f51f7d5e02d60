/**
 * Writes src/contract.gen.ts, the SDK's wire types, from the server's OpenAPI document: the SDK's
 * requests and answers are typed by the server's own schemas, never retyped by hand.
 *
 *   pnpm run contract          from a throwaway server started for the purpose
 *   pnpm run contract <url>    from a running one
 *
 * test/contract.test.ts renders the document of the test server again and fails on any difference.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServer } from './server';

interface Schema {
  $ref?: string;
  anyOf?: Schema[];
  oneOf?: Schema[];
  const?: unknown;
  enum?: unknown[];
  type?: string | string[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  description?: string;
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema: Schema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: { 'application/json': { schema: Schema } } };
  responses: Record<string, { content?: { 'application/json': { schema: Schema } } }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

type Pick = (doc: OpenApiDocument) => Schema;

const component =
  (name: string): Pick =>
  (doc) =>
    found(doc.components.schemas[name], `component ${name}`);
const requestBody =
  (method: string, path: string): Pick =>
  (doc) =>
    found(
      doc.paths[path]?.[method]?.requestBody?.content['application/json'].schema,
      `${method} ${path} body`,
    );
const response =
  (method: string, path: string): Pick =>
  (doc) =>
    found(
      doc.paths[path]?.[method]?.responses['200']?.content?.['application/json'].schema,
      `${method} ${path} 200`,
    );

/** An operation's query parameters as one object type. */
const queryParameters =
  (method: string, path: string): Pick =>
  (doc) => {
    const parameters = doc.paths[path]?.[method]?.parameters;
    if (!parameters) throw new Error(`The OpenAPI document has no ${method} ${path} parameters.`);
    const query = parameters.filter((parameter) => parameter.in === 'query');
    const object: Schema = {
      type: 'object',
      properties: Object.fromEntries(
        query.map((p) => [p.name, { ...p.schema, description: p.description ?? p.schema.description }]),
      ),
      required: query.filter((p) => p.required).map((p) => p.name),
    };
    return object;
  };

/** The exported types, in order: what the SDK sends and receives. */
const picks: Record<string, Pick> = {
  CallRequest: requestBody('post', '/tdk/v1/call'),
  CallResult: component('CallResult'),
  Cost: component('Cost'),
  CallAccepted: component('CallAccepted'),
  CallRecord: component('CallRecord'),
  CallList: component('CallList'),
  ListCallsParams: queryParameters('get', '/tdk/v1/calls'),
  CallError: component('CallError'),
  Agent: component('Agent'),
  AgentList: response('get', '/tdk/agents'),
  Usage: response('get', '/tdk/usage/current'),
  DailyUsage: component('DailyUsage'),
  DailyUsageList: response('get', '/tdk/usage/daily'),
  DailyUsageParams: queryParameters('get', '/tdk/usage/daily'),
  ApiKey: component('ApiKey'),
  ApiKeyList: component('ApiKeyList'),
  ListKeysParams: queryParameters('get', '/tdk/keys'),
  GenerateKeyRequest: requestBody('post', '/tdk/keys/generate'),
  UpdateKeyRequest: requestBody('patch', '/tdk/keys/{id}'),
  RollKeyRequest: requestBody('post', '/tdk/keys/{id}/roll'),
  KeyWithSecret: response('post', '/tdk/keys/generate'),
  ErrorBody: component('Error'),
};

function found(schema: Schema | undefined, what: string): Schema {
  if (!schema) throw new Error(`The OpenAPI document has no ${what}.`);
  return schema;
}

/** The document's schemas as TypeScript declarations; `$ref`s must name a picked component. */
export function renderContract(doc: OpenApiDocument): string {
  const names = new Map<string, string>(
    Object.entries(picks).flatMap(([name, pick]) => {
      const source = Object.entries(doc.components.schemas).find(([, schema]) => schema === pick(doc));
      return source ? [[`#/components/schemas/${source[0]}`, name] as const] : [];
    }),
  );
  const render = (schema: Schema, depth: number): string => {
    if (schema.$ref) {
      const name = names.get(schema.$ref);
      if (!name) throw new Error(`${schema.$ref} is not among the picked types of scripts/contract.ts.`);
      return name;
    }
    const variants = schema.anyOf ?? schema.oneOf;
    if (variants) return variants.map((variant) => render(variant, depth)).join(' | ');
    if ('const' in schema) return JSON.stringify(schema.const);
    if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
    if (Array.isArray(schema.type))
      return schema.type.map((type) => render({ ...schema, type }, depth)).join(' | ');
    switch (schema.type) {
      case 'string':
        return 'string';
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'null':
        return 'null';
      case 'array':
        return `Array<${render(schema.items ?? {}, depth)}>`;
      case 'object':
        return renderObject(schema, depth);
      default:
        return 'unknown';
    }
  };
  const renderObject = (schema: Schema, depth: number): string => {
    const properties = Object.entries(schema.properties ?? {});
    if (properties.length === 0) return 'Record<string, unknown>';
    const pad = '  '.repeat(depth + 1);
    const lines = properties.map(([name, property]) => {
      const key = /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
      const optional = schema.required?.includes(name) ? '' : '?';
      return `${comment(property.description, pad)}${pad}${key}${optional}: ${render(property, depth + 1)};`;
    });
    if (schema.additionalProperties) {
      lines.push(`${pad}[key: string]: unknown;`);
    }
    return `{\n${lines.join('\n')}\n${'  '.repeat(depth)}}`;
  };
  const declarations = Object.entries(picks).map(([name, pick]) => {
    const schema = pick(doc);
    return `${comment(schema.description, '')}export type ${name} = ${render(schema, 0)};\n`;
  });
  return [
    "// Generated by scripts/contract.ts from the server's OpenAPI document: do not edit, run `pnpm run contract`.\n",
    ...declarations,
  ].join('\n');
}

const comment = (text: string | undefined, pad: string) =>
  text ? `${pad}/** ${text.replaceAll('*/', '*\\/')} */\n` : '';

export const contractFile = fileURLToPath(new URL('../src/contract.gen.ts', import.meta.url));

async function main(url: string | undefined) {
  const server = url ? undefined : await startServer();
  try {
    const res = await fetch(`${url ?? server?.url}/api/openapi.json`);
    writeFileSync(contractFile, renderContract((await res.json()) as OpenApiDocument));
    process.stdout.write(`Wrote ${contractFile}\n`);
  } finally {
    await server?.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv[2]);
