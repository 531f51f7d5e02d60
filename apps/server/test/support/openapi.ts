import type { OpenAPIObject } from 'trpc-to-openapi';

export type Schema = Record<string, unknown>;

/** One REST operation of the served OpenAPI document, flattened for tests that cover every route. */
export interface RestOperation {
  operationId: string;
  method: string;
  /** As served, e.g. `/api/tdk/keys/{id}/revoke`. */
  path: string;
  /** Declares `security`: needs a session or an API key. */
  secured: boolean;
  pathParams: string[];
  queryParams: Array<{ name: string; schema: Schema }>;
  bodySchema: Schema | undefined;
}

interface ParameterObject {
  name: string;
  in: string;
  schema?: Schema;
}

interface OperationObject {
  operationId: string;
  security?: unknown[];
  parameters?: ParameterObject[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

export async function fetchOpenApiDocument(baseUrl: string): Promise<OpenAPIObject> {
  const res = await fetch(`${baseUrl}/api/openapi.json`);
  if (res.status !== 200) throw new Error(`openapi.json answered ${res.status}`);
  return (await res.json()) as OpenAPIObject;
}

/** Every operation of the document, with the server's `/api` prefix on its path. */
export function restOperations(doc: OpenAPIObject): RestOperation[] {
  const prefix = new URL(doc.servers?.[0]?.url ?? '/', 'http://host').pathname.replace(/\/$/, '');
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item as Record<string, OperationObject>).map(([method, op]) => {
      const parameters = (op.parameters ?? []).map((p) =>
        resolve(doc, p as unknown as Schema),
      ) as unknown as ParameterObject[];
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      return {
        operationId: op.operationId,
        method: method.toUpperCase(),
        path: `${prefix}${path}`,
        secured: (op.security ?? []).length > 0,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: parameters
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: resolve(doc, p.schema ?? {}) })),
        bodySchema: bodySchema ? resolve(doc, bodySchema) : undefined,
      };
    }),
  );
}

/** Follows a local `$ref` (`#/components/…`) to what it points at; anything else as is. */
export function resolve(doc: OpenAPIObject, schema: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  if (!ref.startsWith('#/')) throw new Error(`not a local $ref: ${ref}`);
  let target: unknown = doc;
  for (const part of ref.slice(2).split('/')) {
    const key = part.replaceAll('~1', '/').replaceAll('~0', '~');
    target = (target as Record<string, unknown> | undefined)?.[key];
  }
  if (target === undefined) throw new Error(`unresolved $ref: ${ref}`);
  return resolve(doc, target as Schema);
}

/** The path with each `{param}` replaced, already URL-encoded by the caller. */
export function fillPath(path: string, segments: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => segments[name] ?? name);
}
