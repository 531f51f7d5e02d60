import {
  forEachOpenApiProcedure,
  generateOpenApiDocument,
  type OpenAPIObject,
  type OpenApiProcedureRecord,
} from 'trpc-to-openapi';
import { appRouter } from './router';

type SchemaObject = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string];
type ResponseObject = { description?: string; content?: unknown; headers?: unknown };
type OperationObject = {
  tags?: string[];
  security?: unknown;
  parameters?: unknown[];
  responses?: Record<string, ResponseObject>;
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

/** The body of every error response: our one error format. */
const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

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
      '400': {
        description: 'Bad signature (`invalid_signature`): nothing was applied',
        content: errorContent,
      },
      '503': { description: 'Billing is not configured on this server', content: errorContent },
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

/** Errors a procedure throws beyond those of its kind (below), by path, where its meta does not name them. */
const thrownStatuses: Record<string, Record<string, string>> = {
  '/tdk/auth/login': {
    '401': 'Wrong email or password (one answer for both: it does not tell whether the email exists)',
    '403': 'Account suspended',
    '429':
      'Too many failed sign-ins for this email from this address, or from this address: blocked for a while',
  },
  '/tdk/auth/register': { '429': 'Too many sign-ups from this address: try again later' },
  '/tdk/auth/refresh': {
    '403':
      'The account is suspended (`account_suspended`), or the session is a cookie one, which is extended while it is used instead (`forbidden`)',
  },
  '/tdk/v1/call': {
    '403':
      "The key's account is suspended (`account_suspended`), its last invoice is unpaid (`billing_past_due`), or its subscription has ended (`subscription_canceled`); nothing was paid",
  },
  '/tdk/keys/generate': {
    '403':
      'The account is suspended (`account_suspended`), or has as many active keys as its tier allows, or made as many today (`key_limit_reached`)',
  },
  '/tdk/keys/{id}': { '404': 'No such key on your account' },
  '/tdk/keys/{id}/revoke': { '404': 'No such key on your account' },
  '/tdk/keys/{id}/roll': {
    '404': 'No such key on your account',
    '409': 'The key is revoked: a revoked key cannot be rolled (`conflict`)',
  },
  '/tdk/agents/{id}': { '404': 'No such agent, or it is disabled (`agent_not_found`)' },
  '/tdk/admin/agents': { '409': 'An agent with this name exists already (`conflict`)' },
  '/tdk/admin/agents/{id}': {
    '404': 'No such agent (`agent_not_found`)',
    '409': 'Another agent has this name (`conflict`)',
  },
  '/tdk/admin/billing/reports/{id}/resolve': {
    '404': 'No such usage report',
    '409': 'The report is not `held` (`conflict`)',
  },
};

/**
 * What a route may answer by its kind, in our words: the generator's own ("Authorization not
 * provided", "Insufficient access") are kept once per status for every route, and dropped altogether
 * from a route whose procedure names any of its errors.
 */
const anyRouteStatuses: Record<string, string> = {
  '500': 'Something went wrong on our side (`internal_error`); the request id identifies it',
  '503': 'The database or the chain is unavailable for a moment (`service_unavailable`, with `Retry-After`)',
};
/** The REST adapter reads a body for these methods, with or without an input to put it in. */
const bodyStatuses: Record<string, string> = {
  '400':
    'The input is not valid (`invalid_input`, the issues in `details`), or the body is not JSON (`invalid_json`)',
  '413': 'The body is larger than the limit (`payload_too_large`)',
  '415': 'The body is not `application/json` (`unsupported_media_type`)',
};
const parameterStatuses: Record<string, string> = {
  '400': 'The input is not valid (`invalid_input`, the issues in `details`)',
};
const byIdStatuses: Record<string, string> = { '404': 'Nothing with this id (`not_found`)' };
const signedInStatuses: Record<string, string> = {
  '401':
    'No valid session token or API key, as the route needs (`unauthenticated`, `invalid_api_key`, `api_key_revoked`, `api_key_expired`)',
  '403': 'The account is suspended (`account_suspended`)',
  '429': 'Rate limited: requests per minute per account, by tier (per API key for `POST /v1/call`)',
};
const adminStatuses: Record<string, string> = {
  '403': 'Not an admin account (`forbidden`), or the account is suspended (`account_suspended`)',
};

const isError = (status: string) => Number(status) >= 400 || status === 'default';

/** Each procedure's own words for its errors (`errorResponses` in its meta), by `method path`. */
function declaredStatuses(): Map<string, Record<string, string>> {
  const declared = new Map<string, Record<string, string>>();
  const procedures = appRouter._def.procedures as unknown as OpenApiProcedureRecord;
  forEachOpenApiProcedure(procedures, ({ meta: { openapi } }) => {
    if (openapi.errorResponses && !Array.isArray(openapi.errorResponses)) {
      declared.set(`${openapi.method.toLowerCase()} ${openapi.path}`, openapi.errorResponses);
    }
  });
  return declared;
}

/**
 * An operation's error responses, each with our one error body. A status's description is the
 * procedure's own if it names one, else the one of `thrownStatuses`, else what the operation already
 * says (the routes served outside tRPC), else its kind's.
 */
function documentErrors(
  path: string,
  method: string,
  operation: OperationObject,
  declared: Record<string, string> = {},
): void {
  const responses = Object.entries(operation.responses ?? {});
  const statuses = {
    ...anyRouteStatuses,
    ...(['post', 'put', 'patch'].includes(method)
      ? bodyStatuses
      : operation.parameters?.length
        ? parameterStatuses
        : {}),
    ...(path.includes('{') ? byIdStatuses : {}),
    ...(operation.security ? signedInStatuses : {}),
    ...(operation.security && operation.tags?.includes('admin') ? adminStatuses : {}),
    ...Object.fromEntries(
      responses.filter(([status]) => isError(status)).map(([s, r]) => [s, r.description]),
    ),
    ...thrownStatuses[path],
    ...declared,
  };
  operation.responses = Object.fromEntries([
    ...responses.filter(([status]) => !isError(status)),
    ...Object.entries(statuses).map(([status, description]) => [
      status,
      {
        description,
        content: errorContent,
        ...(status === '429' ? { headers: rateLimitedHeaders } : {}),
      },
    ]),
  ]);
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
 * The OpenAPI 3.1 document of the REST surface. The generator describes errors in its own shape and
 * words; every error response is written again with our one documented error body instead.
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
  // The generator's error responses are dropped whole: their words are written again below, and
  // their schemas (`error.BAD_REQUEST`, …) are a second error format that no route answers with.
  for (const pathItem of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(pathItem) as OperationObject[]) {
      operation.responses = Object.fromEntries(
        Object.entries(operation.responses ?? {}).filter(([status]) => !isError(status)),
      );
    }
  }
  const schemas = Object.entries(doc.components?.schemas ?? {}).filter(
    ([name]) => !name.startsWith('error.'),
  );
  doc.components = {
    ...doc.components,
    schemas: { ...Object.fromEntries(schemas), Error: errorSchema, CallEvent: callEventSchema },
  };
  // Served outside tRPC (a raw body to verify, a stream), but part of the contract all the same.
  doc.paths = {
    ...doc.paths,
    '/tdk/webhooks/stripe': stripeWebhookPath,
    '/tdk/v1/calls/{id}/events': callEventsPath,
  };
  splitAsyncAnswer(doc);
  const declared = declaredStatuses();
  for (const [path, pathItem] of Object.entries(doc.paths ?? {})) {
    if (path === '/tdk/webhooks/stripe') continue;
    for (const [method, operation] of Object.entries(pathItem) as Array<[string, OperationObject]>) {
      documentErrors(path, method, operation, declared.get(`${method} ${path}`));
    }
  }
  return doc;
}
