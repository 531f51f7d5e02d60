import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import { appRouter } from './router';

type SchemaObject = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string];
type OperationObject = {
  security?: unknown;
  requestBody?: unknown;
  responses?: Record<string, { description?: string; content?: unknown }>;
};

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
      "Stripe's events, verified by the `Stripe-Signature` header over the raw body and applied once per event id. Handles `invoice.created|finalized|paid|payment_failed` (a failed payment suspends the account's keys, payment restores them) and `customer.subscription.updated|deleted` of the account's current subscription (one that ended, canceled or expired, stops the account's keys calling agents until an admin subscribes it again); other events are acknowledged and ignored.",
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
                outcome: { type: 'string' as const, enum: ['handled', 'duplicate', 'ignored', 'superseded'] },
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

const retryAfterHeader = {
  description: 'Seconds to wait before trying again',
  schema: { type: 'integer' as const, minimum: 1 },
};

const rateLimitedHeaders = {
  'Retry-After': retryAfterHeader,
  'RateLimit-Limit': {
    description: 'Requests the limit allows in its window',
    schema: { type: 'string' as const },
  },
  'RateLimit-Remaining': {
    description: 'Requests left in the window: 0',
    schema: { type: 'string' as const },
  },
  'RateLimit-Reset': {
    description: 'Seconds until the window is whole again',
    schema: { type: 'string' as const },
  },
};

/**
 * Statuses the generator cannot see (it knows input validation and the procedure layers): errors
 * thrown inside a procedure, and those of the host that any route can meet.
 */
const thrownStatuses: Record<string, Record<string, string>> = {
  '/tdk/auth/login': {
    '401': 'Wrong email or password (one answer for both: it does not tell whether the email exists)',
    '403': 'Account suspended',
    '429':
      'Too many failed sign-ins for this email from this address, or from this address: blocked for a while',
  },
  '/tdk/auth/register': { '429': 'Too many sign-ups from this address: try again later' },
  '/tdk/v1/call': {
    '403':
      "The key's account is suspended (`account_suspended`), its last invoice is unpaid (`billing_past_due`), or its subscription has ended (`subscription_canceled`); nothing was paid",
  },
  '/tdk/keys/{id}': { '404': 'No such key on your account' },
  '/tdk/keys/{id}/revoke': { '404': 'No such key on your account' },
  '/tdk/keys/{id}/roll': { '404': 'No such key on your account' },
};
const anyRouteStatuses: Record<string, string> = {
  '413': 'The body is larger than the limit',
  '500': 'Something went wrong on our side (`internal_error`); the request id identifies it',
  '503': 'The database or the chain is unavailable for a moment (`service_unavailable`, with `Retry-After`)',
};
const signedInStatuses: Record<string, string> = {
  '429': 'Rate limited: requests per minute per account, by tier (per API key for `POST /v1/call`)',
};

function documentThrownStatuses(path: string, operation: OperationObject): void {
  operation.responses ??= {};
  const responses = operation.responses;
  const extra = { ...anyRouteStatuses, ...(operation.security ? signedInStatuses : {}) };
  for (const [status, description] of Object.entries(extra)) {
    if (status === '413' && !operation.requestBody) continue;
    responses[status] ??= { description };
  }
  // What a route says of its own errors is more precise than the generator's defaults (a 403 is
  // "Insufficient access" there, whatever the procedure's meta said).
  for (const [status, description] of Object.entries(thrownStatuses[path] ?? {})) {
    responses[status] = { ...responses[status], description };
  }
}

/** Served by the host as Server-Sent Events (`apps/server/src/http/call-events.ts`), outside tRPC. */
const callEventsPath = {
  get: {
    operationId: 'calls-getEvents',
    tags: ['calls'],
    summary: "Stream a call's status changes",
    description:
      "The call's status changes as Server-Sent Events, from the first (or after `Last-Event-ID`) to the final one, then the stream ends. Each is `event: status`, `id: <seq>`, and `data:` one JSON `CallEvent`. Any key of the call's account may read it. Reconnecting after the final event is answered 204, which tells an EventSource to stop. A comment line every 15 s keeps proxies from closing a quiet stream. A key may hold 10 streams open at once (429 beyond).",
    security: [{ bearer: [] }],
    parameters: [
      { name: 'id', in: 'path' as const, required: true, schema: { type: 'string' as const } },
      {
        name: 'Last-Event-ID',
        in: 'header' as const,
        required: false,
        description: 'Resume after this event (its `seq`); EventSource sends it by itself when it reconnects',
        schema: { type: 'string' as const },
      },
    ],
    responses: {
      '200': {
        description: 'The events, as `text/event-stream`; each `data:` line is a `CallEvent`',
        content: { 'text/event-stream': { schema: { type: 'string' as const } } },
      },
      '204': { description: 'The call has no events after `Last-Event-ID` and has finished' },
      '401': { description: 'Missing, unknown or revoked API key' },
      '404': { description: 'No such call for this account' },
    },
  },
};

const callEventSchema: SchemaObject = {
  type: 'object',
  description: 'One status change of a call, as the event stream sends it in each `data:` line.',
  required: ['call_id', 'seq', 'status', 'at'],
  properties: {
    call_id: { type: 'string' },
    seq: {
      type: 'integer',
      description: '1, 2, 3… per call: the event id, and what `Last-Event-ID` resumes after',
    },
    status: { type: 'string', enum: ['queued', 'paying', 'running', 'succeeded', 'failed'] },
    at: { type: 'string', format: 'date-time' },
    error: { $ref: '#/components/schemas/CallError' },
    result: { $ref: '#/components/schemas/CallResult' },
  },
};

/**
 * `POST /tdk/v1/call` has one output to tRPC (the result or the queued call) but answers it with two
 * statuses: the result with 200, the queued call of an `async: true` request with 202. REST clients
 * see each under its own status.
 */
function splitAsyncAnswer(doc: OpenAPIObject): void {
  const operation = doc.paths?.['/tdk/v1/call']?.post;
  const ok = operation?.responses?.['200'];
  const variants = ok?.content?.['application/json']?.schema?.anyOf;
  if (!operation || !ok || variants?.length !== 2) {
    throw new Error('POST /tdk/v1/call no longer answers the result or the queued call');
  }
  const [result, accepted] = variants;
  const others = Object.entries(operation.responses ?? {}).filter(([status]) => status !== '200');
  operation.responses = {
    '200': { ...ok, content: { 'application/json': { schema: result } } },
    '202': {
      description: 'With `async: true`: the queued call, to follow at `links.self` or `links.events`',
      headers: ok.headers,
      content: { 'application/json': { schema: accepted } },
    },
    ...Object.fromEntries(others),
  };
}

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
  doc.components = {
    ...doc.components,
    schemas: { ...doc.components?.schemas, Error: errorSchema, CallEvent: callEventSchema },
  };
  // Served outside tRPC (a raw body to verify, a stream), but part of the contract all the same.
  doc.paths = {
    ...doc.paths,
    '/tdk/webhooks/stripe': stripeWebhookPath,
    '/tdk/v1/calls/{id}/events': callEventsPath,
  };
  splitAsyncAnswer(doc);
  for (const [path, pathItem] of Object.entries(doc.paths ?? {})) {
    for (const operation of Object.values(pathItem) as OperationObject[]) {
      if (path !== '/tdk/webhooks/stripe') documentThrownStatuses(path, operation);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (Number(status) >= 400 || status === 'default') {
          response.content = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
        }
        if (status === '429') Object.assign(response, { headers: rateLimitedHeaders });
      }
    }
  }
  return doc;
}
