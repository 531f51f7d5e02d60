import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import { appRouter } from './router';

type SchemaObject = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string];

const errorSchema: SchemaObject = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'request_id'],
      properties: {
        code: { type: 'string', description: 'Stable machine-readable code, e.g. `rate_limited`.' },
        message: { type: 'string', description: 'Human-readable explanation.' },
        request_id: { type: 'string', description: 'Quote it when asking for support.' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
};

/**
 * The OpenAPI 3.1 document of the REST surface. The generator describes errors in its own shape;
 * every error response is pointed at our one documented error body instead.
 */
export function createOpenApiDocument(options: { version: string; serverUrl: string }): OpenAPIObject {
  const doc = generateOpenApiDocument(appRouter, {
    title: 'TDK API',
    description:
      'Call paid Tetto marketplace agents with one API key. Every error has the body `{ "error": { "code", "message", "request_id", "details" } }`.',
    version: options.version,
    openApiVersion: '3.1.0',
    baseUrl: options.serverUrl,
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description: 'An API key (`tdk_test_…`) or a session token.',
      },
    },
  });
  doc.components = { ...doc.components, schemas: { ...doc.components?.schemas, Error: errorSchema } };
  for (const pathItem of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(pathItem)) {
      const responses = (operation as { responses?: Record<string, { content?: unknown }> }).responses;
      for (const [status, response] of Object.entries(responses ?? {})) {
        if (Number(status) >= 400 || status === 'default') {
          response.content = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
        }
      }
    }
  }
  return doc;
}
