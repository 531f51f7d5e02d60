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

const stripeWebhookPath = {
  post: {
    operationId: 'billing-stripeWebhook',
    tags: ['billing'],
    summary: 'Stripe webhook receiver',
    description:
      "Stripe's events, verified by the `Stripe-Signature` header over the raw body and applied once per event id. Handles `invoice.created|finalized|paid|payment_failed` (a failed payment suspends the account's keys, payment restores them) and `customer.subscription.updated|deleted`; other events are acknowledged and ignored.",
    parameters: [
      {
        name: 'Stripe-Signature',
        in: 'header' as const,
        required: true,
        schema: { type: 'string' as const },
      },
    ],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: { type: 'object' as const, additionalProperties: true } } },
    },
    responses: {
      '200': {
        description: 'Received',
        content: {
          'application/json': {
            schema: {
              type: 'object' as const,
              required: ['received', 'outcome'],
              properties: {
                received: { type: 'boolean' as const },
                outcome: { type: 'string' as const, enum: ['handled', 'duplicate', 'ignored'] },
              },
            },
          },
        },
      },
      '400': { description: 'Bad signature (`invalid_signature`): nothing was applied' },
      '503': { description: 'Billing is not configured on this server' },
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
  // Served outside tRPC (its signature covers the raw body), but part of the contract all the same.
  doc.paths = { ...doc.paths, '/tdk/webhooks/stripe': stripeWebhookPath };
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
