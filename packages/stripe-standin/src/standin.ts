import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AcceptedMeterEvent,
  ApiError,
  createStripeApi,
  type InvoiceFields,
  type StandInCustomer,
  type StandInSubscription,
  type StripeErrorBody,
  stripeId,
} from './api';
import { decodeForm } from './form';
import { API_VERSION, stripeEvent } from './webhooks';

export interface FailureOptions {
  /** The HTTP status to answer. Default 500 (an `api_error`); 429 answers a `rate_limit` error. */
  status?: number;
  /** Fail only requests whose path starts with this, e.g. `/v1/billing/meter_events`. Default: all. */
  pathPrefix?: string;
  /**
   * Let the API handle the request first (and keep its idempotent result), then answer the failure
   * instead: an answer lost on the way back, so the caller cannot tell whether it took effect.
   */
  afterHandling?: boolean;
}

export interface StandInRequest {
  method: string;
  /** Without the query string. */
  path: string;
  idempotencyKey: string | undefined;
  /** The status answered, injected failures included. */
  status: number;
}

export interface StripeStandIn {
  readonly host: string;
  readonly port: number;
  readonly protocol: 'http';
  /** e.g. `http://127.0.0.1:43127`. */
  readonly url: string;
  /** Stripe SDK config to reach this stand-in: `new Stripe(key, { ...standIn.clientOptions })`. */
  readonly clientOptions: { host: string; port: number; protocol: 'http' };
  /**
   * Make the next `n` requests (optionally only those under `pathPrefix`) fail before the API sees
   * them. They change nothing and save no idempotent result, so the SDK's retries can recover.
   */
  failNext(n: number, options?: FailureOptions): void;
  /** Fail every request (optionally only those under `pathPrefix`) until `recover()`. */
  outage(options?: FailureOptions): void;
  /** Stop all injected failures: any outage, and any `failNext` not used up yet. */
  recover(): void;
  /**
   * Moves the stand-in's clock forward, as if that much time had passed: idempotency keys and meter
   * event identifiers older than a day are then forgotten, as Stripe forgets them.
   */
  elapse(ms: number): void;
  /** Accepted meter events (not duplicates, not refused), in arrival order. */
  meterEvents(): AcceptedMeterEvent[];
  /** Sum of accepted meter event values per customer, for one event name. */
  meterTotals(eventName: string): Map<string, number>;
  /** Every request received, in order: lets tests assert on retries and duplicates. */
  requests(): StandInRequest[];
  /** The customers as `GET /v1/customers/:id` would answer them, oldest first. */
  customers(): StandInCustomer[];
  /** The subscriptions (canceled ones too) as `GET /v1/subscriptions/:id` would answer them, oldest first. */
  subscriptions(): StandInSubscription[];
  /**
   * A Stripe event (id `evt_…`, `object: 'event'`, `type`, `data.object`, `created`, `livemode: false`,
   * `api_version`) as a webhook body, e.g. `event('invoice.paid', standIn.invoice({ customer }))`.
   * Sign the payload with `signWebhookPayload`. `created` (seconds) defaults to now: set an earlier
   * one to play an event Stripe delivers late.
   */
  event(
    type: string,
    object: Record<string, unknown>,
    options?: { created?: number },
  ): { id: string; payload: string };
  /**
   * An invoice in Stripe's shape (id `in_…`) for a customer, e.g. for an `invoice.paid` event; kept,
   * so that `GET /v1/invoices/:id` finds it. A subscription goes under `parent.subscription_details`.
   */
  invoice(fields: InvoiceFields): Record<string, unknown>;
  close(): Promise<void>;
}

interface Incoming {
  method: string;
  path: string;
  query: string;
  body: string;
  authorization: string | undefined;
  idempotencyKey: string | undefined;
  requestId: string;
}

interface Reply {
  status: number;
  /** JSON, serialized when answered: a replay must not show later changes to the object. */
  body: string;
  headers?: Record<string, string>;
}

interface Failure {
  remaining: number;
  status: number;
  pathPrefix: string;
  afterHandling: boolean;
}

interface SavedReply {
  at: number;
  /** Method, path and body of the first request with the key: a reuse must match all three. */
  request: string;
  reply: Reply;
  requestId: string;
}

/** How long Stripe keeps an idempotency key. */
const DAY_MS = 24 * 60 * 60 * 1000;

const errorReply = (status: number, error: StripeErrorBody): Reply => ({
  status,
  body: JSON.stringify({ error }),
});

function failureError(status: number): StripeErrorBody {
  if (status === 429) {
    return {
      type: 'invalid_request_error',
      code: 'rate_limit',
      message:
        'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
    };
  }
  return {
    type: 'api_error',
    message: "Something went wrong on Stripe's end (a failure injected by the stand-in).",
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A Stripe API stand-in on 127.0.0.1 (`port` default: any free one), with its state in memory, for the
 * real `stripe` SDK to talk to. See `StripeStandIn` for what tests can do to it and read from it.
 */
export async function startStripeStandIn(options: { port?: number } = {}): Promise<StripeStandIn> {
  let elapsedMs = 0;
  const clock = () => Date.now() + elapsedMs;
  const api = createStripeApi(clock);
  const failures: Failure[] = [];
  const log: StandInRequest[] = [];
  /** By API key and idempotency key: Stripe keeps keys per account. */
  const savedReplies = new Map<string, SavedReply>();

  function takeFailure(path: string): Failure | undefined {
    const failure = failures.find((f) => path.startsWith(f.pathPrefix));
    if (!failure) return undefined;
    failure.remaining -= 1;
    if (failure.remaining === 0) failures.splice(failures.indexOf(failure), 1);
    return failure;
  }

  function run(incoming: Incoming): Reply {
    const params = decodeForm(incoming.method === 'POST' ? incoming.body : incoming.query);
    try {
      return { status: 200, body: JSON.stringify(api.handle(incoming.method, incoming.path, params)) };
    } catch (error) {
      if (error instanceof ApiError) return errorReply(error.status, error.body);
      return errorReply(500, { type: 'api_error', message: `The Stripe stand-in failed: ${String(error)}` });
    }
  }

  function answer(incoming: Incoming): Reply {
    // An injected failure stands for Stripe itself failing: before anything looks at the request, or
    // after it was handled (the answer lost).
    const failure = takeFailure(incoming.path);
    if (!failure) return handle(incoming);
    if (failure.afterHandling) handle(incoming);
    return errorReply(failure.status, failureError(failure.status));
  }

  function handle(incoming: Incoming): Reply {
    const apiKey = /^Bearer ((?:sk|rk)_\S+)$/.exec(incoming.authorization ?? '')?.[1];
    if (!apiKey) {
      return errorReply(401, {
        type: 'invalid_request_error',
        message: incoming.authorization
          ? 'Invalid API Key provided: the stand-in takes a secret (sk_…) or restricted (rk_…) key as a Bearer token.'
          : "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
      });
    }

    // Stripe ignores idempotency keys on GET and DELETE.
    const key = incoming.idempotencyKey;
    if (incoming.method !== 'POST' || key === undefined) return run(incoming);
    const scope = `${apiKey} ${key}`;
    const request = `${incoming.method} ${incoming.path} ${incoming.body}`;
    const saved = savedReplies.get(scope);
    if (saved && clock() - saved.at < DAY_MS) {
      if (saved.request !== request) {
        return errorReply(400, {
          type: 'idempotency_error',
          message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        });
      }
      return {
        ...saved.reply,
        headers: { 'Idempotent-Replayed': 'true', 'Original-Request': saved.requestId },
      };
    }
    const reply = run(incoming);
    // Only successes are saved: every refusal here is a validation error, whose result Stripe does not
    // save either, so the request may be retried under the same key.
    if (reply.status === 200) {
      savedReplies.set(scope, { at: clock(), request, reply, requestId: incoming.requestId });
    }
    return reply;
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const incoming = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      authorization: req.headers.authorization,
      idempotencyKey: header(req, 'idempotency-key'),
      requestId: stripeId('req', 14),
    };
    readBody(req)
      .then((body) => {
        const { status, body: json, headers } = answer({ ...incoming, body });
        log.push({
          method: incoming.method,
          path: incoming.path,
          idempotencyKey: incoming.idempotencyKey,
          status,
        });
        res
          .writeHead(status, {
            'Content-Type': 'application/json',
            'Request-Id': incoming.requestId,
            'Stripe-Version': header(req, 'stripe-version') ?? API_VERSION,
            ...(incoming.idempotencyKey && { 'Idempotency-Key': incoming.idempotencyKey }),
            ...headers,
          })
          .end(json);
      })
      // The client went away mid-request: there is no one to answer.
      .catch(() => res.destroy());
  });
  const host = '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    host,
    port,
    protocol: 'http',
    url: `http://${host}:${port}`,
    clientOptions: { host, port, protocol: 'http' },
    failNext(n, { status = 500, pathPrefix = '', afterHandling = false } = {}) {
      if (n > 0) failures.push({ remaining: n, status, pathPrefix, afterHandling });
    },
    outage({ status = 500, pathPrefix = '', afterHandling = false } = {}) {
      failures.push({ remaining: Number.POSITIVE_INFINITY, status, pathPrefix, afterHandling });
    },
    recover() {
      failures.length = 0;
    },
    elapse(ms) {
      elapsedMs += ms;
    },
    meterEvents: api.meterEvents,
    meterTotals(eventName) {
      const totals = new Map<string, number>();
      for (const event of api.meterEvents()) {
        if (event.event_name !== eventName) continue;
        totals.set(event.customer, (totals.get(event.customer) ?? 0) + event.value);
      }
      return totals;
    },
    requests: () => log.map((request) => ({ ...request })),
    customers: api.customers,
    subscriptions: api.subscriptions,
    event: stripeEvent,
    invoice: api.invoice,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The SDK keeps connections alive; without this, close waits for them to time out.
        server.closeAllConnections();
      }),
  };
}
