import { createRequire } from 'node:module';
import { appRouter } from '@tdk/api';
import { forEachOpenApiProcedure, type OpenAPIObject, type OpenApiProcedureRecord } from 'trpc-to-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing';
import { adminSession, newDeveloper } from './support/customers';
import { jsonClient } from './support/http';
import { fetchOpenApiDocument, fillPath, resolve, restOperations, type Schema } from './support/openapi';
import oasSchema from './support/openapi-3.1-schema.json';

/**
 * ajv is a dependency of @tdk/marketplace, not of this package: it is loaded from there, so the check
 * needs no new dependency. `ajv/dist/2020` is ajv for JSON Schema 2020-12, the dialect of OpenAPI 3.1.
 */
const requireFromMarketplace = createRequire(import.meta.resolve('@tdk/marketplace'));
interface Ajv {
  addSchema(schema: unknown, key: string): Ajv;
  compile(schema: unknown): unknown;
  validate(schema: unknown, data: unknown): boolean;
  validateSchema(schema: unknown): boolean;
  errors?: unknown[] | null;
}
const { Ajv2020 } = requireFromMarketplace('ajv/dist/2020') as { Ajv2020: new (options: object) => Ajv };
const addFormats = requireFromMarketplace('ajv-formats') as (ajv: Ajv) => Ajv;

let server: TestServer;
let doc: OpenAPIObject;
beforeAll(async () => {
  server = await startTestServer('pglite-memory');
  doc = await fetchOpenApiDocument(server.url);
});
afterAll(async () => {
  await server?.stop();
});

/**
 * The served document passes an independent validator: the OpenAPI Initiative's own JSON Schema of
 * OpenAPI 3.1 documents (`https://spec.openapis.org/oas/3.1/schema/2022-10-07`, vendored from the
 * Apache-2.0 `openapi-spec-validator` package, whitespace reformatted) checked by ajv, plus what that
 * schema leaves out: every Schema Object is valid JSON Schema 2020-12, every `$ref` resolves,
 * operation ids are unique, and path templates match their declared parameters.
 */
describe('the OpenAPI document', () => {
  const ajv = () => addFormats(new Ajv2020({ strict: false, allErrors: true }));

  it('is a valid OpenAPI 3.1 document by the OpenAPI Initiative schema', () => {
    // ajv honours $dynamicAnchor only at the root of a schema resource; used alone, this schema's
    // `$dynamicRef: "#meta"` resolves to `#/$defs/schema`, so it is pointed there directly.
    const schema = JSON.parse(
      JSON.stringify(oasSchema).replaceAll('"$dynamicRef":"#meta"', '"$ref":"#/$defs/schema"'),
    );
    const validator = ajv();
    const valid = validator.validate(schema, doc);
    expect(validator.errors ?? [], JSON.stringify(validator.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('has only Schema Objects that are valid JSON Schema 2020-12, and compile', () => {
    const validator = ajv();
    validator.addSchema(doc, 'openapi.json');
    const pointers = schemaPointers(doc);
    expect(pointers.length).toBeGreaterThan(20);
    for (const pointer of pointers) {
      const schema = resolvePointer(doc, pointer);
      expect(validator.validateSchema(schema), `${pointer}: ${JSON.stringify(validator.errors)}`).toBe(true);
      // Compiling also checks what the meta-schema cannot: patterns are regular expressions, $refs resolve.
      expect(() => validator.compile({ $ref: `openapi.json#${pointer}` }), pointer).not.toThrow();
    }
  });

  it('resolves every $ref', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) expect(() => resolve(doc, { $ref: ref }), ref).not.toThrow();
  });

  it('gives every operation a unique id, a success response, and exactly its path parameters', () => {
    const operations = restOperations(doc);
    const ids = operations.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of operations) {
      const templated = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(op.pathParams.sort(), op.operationId).toEqual(templated.sort());
      const item = doc.paths?.[op.path.replace(/^\/api/, '')] as Record<string, { responses?: object }>;
      const statuses = Object.keys(item[op.method.toLowerCase()]?.responses ?? {});
      expect(
        statuses.some((s) => s.startsWith('2')),
        op.operationId,
      ).toBe(true);
    }
  });
});

describe('what the OpenAPI document says', () => {
  it("names every status GET /keys' `status` filter keeps", () => {
    const list = doc.paths?.['/tdk/keys']?.get as OperationLike & { description: string };
    const status = list.parameters?.find((p) => (p as { name?: string }).name === 'status');
    const values = (status?.schema?.enum ?? []) as string[];
    expect(values.sort()).toEqual(['active', 'expired', 'revoked']);
    for (const value of values) expect(list.description).toContain(`\`${value}\``);
  });

  /** The description the document gives `status` of an operation (`POST /tdk/keys/{id}/roll`). */
  const described = (operation: string, status: string) => {
    const [method, path] = operation.split(' ') as [string, string];
    const item = doc.paths?.[path] as Record<string, OperationLike> | undefined;
    return item?.[method.toLowerCase()]?.responses?.[status]?.description;
  };

  it("gives each procedure's own descriptions of its errors, and none of the generator's", () => {
    const procedures = appRouter._def.procedures as unknown as OpenApiProcedureRecord;
    let declaring = 0;
    forEachOpenApiProcedure(procedures, ({ meta: { openapi } }) => {
      if (!openapi.errorResponses || Array.isArray(openapi.errorResponses)) return;
      declaring++;
      for (const [status, description] of Object.entries(openapi.errorResponses)) {
        expect(described(`${openapi.method} ${openapi.path}`, status), `${openapi.path} ${status}`).toBe(
          description,
        );
      }
    });
    expect(declaring).toBeGreaterThanOrEqual(2);
    // The generator's defaults, which it kept once per status for every route, whatever a route said.
    const generic = ['Authorization not provided', 'Insufficient access', 'Invalid input data', 'Not found'];
    const descriptions = Object.values(doc.paths ?? {}).flatMap((item) =>
      Object.values(item as Record<string, OperationLike>).flatMap((op) =>
        Object.values(op.responses ?? {}).map((r) => r.description),
      ),
    );
    for (const text of generic) expect(descriptions).not.toContain(text);
  });

  it('has one error format: no component of the generator describes another', () => {
    const names = Object.keys(doc.components?.schemas ?? {});
    expect(names).toContain('Error');
    expect(names.filter((name) => name.startsWith('error.'))).toEqual([]);
    expect(JSON.stringify(doc.components)).not.toContain('BAD_REQUEST');
  });

  it('answers 415 to a body that is not JSON on every route that reads one, and says so', async () => {
    const reading = restOperations(doc).filter(
      (op) => op.method !== 'GET' && op.path !== '/api/tdk/webhooks/stripe',
    );
    expect(reading.length).toBeGreaterThan(10);
    for (const op of reading) {
      const res = await fetch(`${server.url}${fillPath(op.path, { id: 'x' })}`, {
        method: op.method,
        headers: { 'content-type': 'text/plain' },
        body: 'x',
      });
      const what = `${op.method} ${op.path}`;
      expect(res.status, what).toBe(415);
      expect(((await res.json()) as { error: { code: string } }).error.code, what).toBe(
        'unsupported_media_type',
      );
      expect(described(`${op.method} ${op.path.replace(/^\/api/, '')}`, '415'), what).toBeDefined();
    }
  });

  it('documents the statuses these routes answer', async () => {
    const api = jsonClient(server.url);
    const [dev, revoked] = [await newDeveloper(server), await newDeveloper(server)];
    const admin = await adminSession(server);
    await api('POST', `/api/tdk/keys/${revoked.keyId}/revoke`, { token: revoked.session });
    const answered = {
      'POST /tdk/keys/{id}/roll 409': api('POST', `/api/tdk/keys/${revoked.keyId}/roll`, {
        token: revoked.session,
        body: {},
      }),
      'POST /tdk/admin/billing/reports/{id}/resolve 404': api(
        'POST',
        '/api/tdk/admin/billing/reports/mr_none/resolve',
        { token: admin, body: { outcome: 'counted' } },
      ),
      'POST /tdk/admin/users/{id}/resubscribe 401': api(
        'POST',
        `/api/tdk/admin/users/${dev.userId}/resubscribe`,
      ),
      'POST /tdk/admin/users/{id}/resubscribe 403': api(
        'POST',
        `/api/tdk/admin/users/${dev.userId}/resubscribe`,
        { token: dev.session },
      ),
      'GET /tdk/v1/calls/{id}/events 400': api('GET', `/api/tdk/v1/calls/${'c'.repeat(65)}/events`, {
        token: dev.apiKey,
      }),
    };
    for (const [what, answer] of Object.entries(answered)) {
      const status = what.split(' ')[2] as string;
      expect(String((await answer).status), what).toBe(status);
      expect(described(what.split(' ').slice(0, 2).join(' '), status), what).toBeDefined();
    }
    // Answered where their own tests make them (a taken agent name, a report that is not held).
    for (const what of [
      'POST /tdk/admin/agents 409',
      'PATCH /tdk/admin/agents/{id} 409',
      'POST /tdk/admin/billing/reports/{id}/resolve 409',
    ]) {
      expect(described(what.split(' ').slice(0, 2).join(' '), what.split(' ')[2] as string), what).toContain(
        '`conflict`',
      );
    }
    expect(described('POST /tdk/admin/users/{id}/resubscribe', '409')).not.toContain('Idempotency');
  });
});

/** JSON pointers to every Schema Object of the document: components, parameters, request and response bodies. */
function schemaPointers(doc: OpenAPIObject): string[] {
  const escapePart = (part: string) => part.replaceAll('~', '~0').replaceAll('/', '~1');
  const pointer = (...parts: string[]) => `/${parts.map(escapePart).join('/')}`;
  const found = Object.keys(doc.components?.schemas ?? {}).map((name) =>
    pointer('components', 'schemas', name),
  );
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item as Record<string, OperationLike>)) {
      (op.parameters ?? []).forEach((p, i) => {
        if (p.schema) found.push(pointer('paths', path, method, 'parameters', String(i), 'schema'));
      });
      for (const type of Object.keys(op.requestBody?.content ?? {})) {
        found.push(pointer('paths', path, method, 'requestBody', 'content', type, 'schema'));
      }
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        for (const type of Object.keys(response.content ?? {})) {
          found.push(pointer('paths', path, method, 'responses', status, 'content', type, 'schema'));
        }
      }
    }
  }
  return found;
}

interface OperationLike {
  parameters?: Array<{ schema?: Schema }>;
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, { description?: string; content?: Record<string, unknown> }>;
}

const resolvePointer = (doc: OpenAPIObject, pointer: string): Schema => resolve(doc, { $ref: `#${pointer}` });
