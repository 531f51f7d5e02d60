import type {
  Agent,
  AgentList,
  ApiKey,
  ApiKeyList,
  CallAccepted,
  CallList,
  CallRecord,
  CallRequest,
  DailyUsageList,
  DailyUsageParams,
  ErrorBody,
  GenerateKeyRequest,
  KeyWithSecret,
  ListCallsParams,
  ListKeysParams,
  RollKeyRequest,
  UpdateKeyRequest,
  Usage,
} from './contract.gen.js';
import { AgentError, ConnectionError, errorFor, type TDKError, TimeoutError } from './errors.js';
import { readEvents } from './sse.js';
import type { CallEvent, CallResult } from './types.js';

/** How to reach TDK. Every field is optional. */
export interface TDKOptions {
  /** Your API key, `tdk_test_…` or `tdk_live_…`. Default: the `TDK_API_KEY` environment variable, where there is one. */
  apiKey?: string | undefined;
  /** A session token (from signing in), for `tdk.keys`. */
  sessionToken?: string | undefined;
  /** Where TDK runs. Default: `TDK_BASE_URL`, else `http://127.0.0.1:8787` (what `npm start` serves). */
  baseUrl?: string | undefined;
  /** The longest a method may take, retries included, in ms; 0 for no limit. Default 300 000: a call waits for its agent. */
  timeoutMs?: number | undefined;
  /** How many times to retry after a network error, a 429 or a 5xx. Default 2. */
  maxRetries?: number | undefined;
  /** The fetch to use. Default: the global one. */
  fetch?: typeof fetch | undefined;
}

/** What every method takes last. */
export interface RequestOptions {
  /** Aborts the request: the method rejects with the signal's reason and does not retry. */
  signal?: AbortSignal | undefined;
  /** This request's `timeoutMs`. */
  timeoutMs?: number | undefined;
  /** This request's `maxRetries`. */
  maxRetries?: number | undefined;
}

/** Options of `tdk.call()`. */
export interface CallOptions extends RequestOptions {
  /**
   * Makes the call safe to repeat: the same key with the same agent and input returns the first
   * call's answer without paying again (a different input is a `ConflictError`). Default: a new
   * random key per `call()`, which its own retries reuse.
   */
  idempotencyKey?: string | undefined;
  /** Answer at once with the queued call and run it in the background: see `tdk.calls.wait()`. */
  async?: boolean | undefined;
}

/** Options of a shortcut: a call's, but always synchronous. */
export type ShortcutOptions = Omit<CallOptions, 'async'>;

/** Options of `tdk.calls.events()` and `tdk.calls.wait()`, which wait as long as the call runs (pass `signal: AbortSignal.timeout(ms)` to bound them). */
export interface EventsOptions extends Omit<RequestOptions, 'timeoutMs'> {
  /** Resume after this event (its `seq`), e.g. after a restart. */
  lastEventId?: string | number | undefined;
}

/** `tdk.calls`: your account's calls. */
export interface CallsResource {
  /** A call's status, cost, payment and result (or error). Any key of your account may read it. */
  get(id: string, options?: RequestOptions): Promise<CallRecord>;
  /**
   * Your account's calls, newest first, one page at a time (`limit`, default 50, at most 200):
   * pass a page's `next_cursor` as `cursor` for the next one; it is null on the last.
   */
  list(params?: ListCallsParams, options?: RequestOptions): Promise<CallList>;
  /**
   * Every call that `list` would page through, one at a time, newest first: fetches the next page
   * as you reach it. `for await (const call of tdk.calls.iterate({ status: 'failed' })) …`
   */
  iterate(
    params?: Omit<ListCallsParams, 'cursor'>,
    options?: RequestOptions,
  ): AsyncGenerator<CallRecord, void, undefined>;
  /**
   * The call's status changes as they happen, from the first (or after `lastEventId`), ending after
   * `succeeded` or `failed`. A broken connection is resumed where it left off.
   */
  events(id: string, options?: EventsOptions): AsyncGenerator<CallEvent, void, undefined>;
  /** Waits for the call to finish: its result, or the error it failed with (an `AgentError`, an `InsufficientFundsError`…). */
  wait<TOutput = unknown>(id: string, options?: EventsOptions): Promise<CallResult<TOutput>>;
}

/** `tdk.agents`: the marketplace's agents. */
export interface AgentsResource {
  /** Every agent you can call, with its price and input/output JSON Schemas. Needs no key. */
  list(options?: RequestOptions): Promise<AgentList>;
  /** One agent, by id or name. */
  get(idOrName: string, options?: RequestOptions): Promise<Agent>;
}

/** `tdk.usage`: what your key may still do. */
export interface UsageResource {
  /** Your key's tier and limits, quota used and left today, spend this month, wallet balances. */
  current(options?: RequestOptions): Promise<Usage>;
  /** Your account's calls and their cost per UTC day, by default the last 30 days. */
  daily(params?: DailyUsageParams, options?: RequestOptions): Promise<DailyUsageList>;
}

/** `tdk.keys`: API keys, with the `sessionToken` of a signed-in account. */
export interface KeysResource {
  /** A new key with its own funded wallet. The secret is in this answer only: store it. */
  generate(request?: GenerateKeyRequest, options?: RequestOptions): Promise<KeyWithSecret>;
  /** Your keys, newest first, a page at a time, with their wallets (never their secrets). */
  list(params?: ListKeysParams, options?: RequestOptions): Promise<ApiKeyList>;
  /** One of your keys. */
  get(id: string, options?: RequestOptions): Promise<ApiKey>;
  /** Renames a key, sets its own `monthly_spend_cap` (USDC base units) or its `expires_at`; `null` removes either. */
  update(id: string, request: UpdateKeyRequest, options?: RequestOptions): Promise<ApiKey>;
  /** Calls with the key fail from now on; its wallet stays with it. */
  revoke(id: string, options?: RequestOptions): Promise<ApiKey>;
  /** A new secret for the same key and wallet; the old one keeps working for `grace_seconds` (default a day). */
  roll(id: string, request?: RollKeyRequest, options?: RequestOptions): Promise<KeyWithSecret>;
}

/**
 * Shortcuts on top of `tdk.call`, added to every client by `TDK.use(plugin)` as `tdk[name]`. Their
 * type is declared by merging it into `TDK`, so they autocomplete:
 *
 * ```ts
 * declare module '@tdk/client' {
 *   interface TDK { echo: { say(text: string): Promise<string> } }
 * }
 * TDK.use({ name: 'echo', install: (tdk) => ({ say: async (text) => (await tdk.call<string>('echo', { text })).output }) });
 * ```
 */
export interface TDKPlugin<TName extends keyof TDK = keyof TDK> {
  name: TName;
  /** Builds the shortcuts of one client, on its first use of them. */
  install(tdk: TDK): TDK[TName];
}

interface Outgoing extends RequestOptions {
  /** The bearer token: the API key, the session token, or none for public routes. */
  auth?: string | undefined;
  body?: unknown;
  headers?: Record<string, string>;
  /** False for requests that must not run twice (they may have worked when the answer was lost). */
  repeatable?: boolean;
}

const enc = encodeURIComponent;

/** `?a=1&b=2` of the parameters that are set, or nothing. */
function queryString(params: object): string {
  const pairs = Object.entries(params)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([name, value]): [string, string] => [name, String(value)]);
  return pairs.length ? `?${new URLSearchParams(pairs)}` : '';
}

/**
 * The TDK client: `new TDK({ apiKey })`, then `await tdk.call('memory', input)`.
 */
export class TDK {
  readonly #apiKey: string | undefined;
  readonly #sessionToken: string | undefined;
  readonly #baseUrl: string;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #fetch: typeof fetch;

  /** Calls by id: status and result, live events, waiting for an async call. */
  readonly calls: CallsResource;
  /** The agents you can call. */
  readonly agents: AgentsResource;
  /** Your key's limits, quota, spend and balances. */
  readonly usage: UsageResource;
  /** API keys (with a `sessionToken`). */
  readonly keys: KeysResource;

  /** Adds a plugin's shortcuts to every client, as `tdk[plugin.name]`. See {@link TDKPlugin}. */
  static use<TName extends keyof TDK>(plugin: TDKPlugin<TName>): typeof TDK {
    Object.defineProperty(TDK.prototype, plugin.name, {
      configurable: true,
      get(this: TDK) {
        const shortcuts = plugin.install(this);
        Object.defineProperty(this, plugin.name, { value: shortcuts });
        return shortcuts;
      },
    });
    return TDK;
  }

  constructor(config: TDKOptions = {}) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    this.#apiKey = config.apiKey ?? env?.TDK_API_KEY;
    this.#sessionToken = config.sessionToken;
    this.#baseUrl = (config.baseUrl ?? env?.TDK_BASE_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
    this.#timeoutMs = config.timeoutMs ?? 300_000;
    this.#maxRetries = config.maxRetries ?? 2;
    // Looked up at each request, and never called as a method of this client (browsers refuse that).
    this.#fetch = config.fetch ?? ((input, init) => fetch(input, init));

    this.calls = {
      get: (id, options) => this.#json('GET', `/v1/calls/${enc(id)}`, { ...options, auth: this.#apiKey }),
      list: (params = {}, options) =>
        this.#json('GET', `/v1/calls${queryString(params)}`, { ...options, auth: this.#apiKey }),
      iterate: (params, options) => this.#iterateCalls(params, options),
      events: (id, options) => this.#events(id, options),
      wait: <TOutput>(id: string, options?: EventsOptions) => this.#wait<TOutput>(id, options),
    };
    this.agents = {
      list: (options) => this.#json('GET', '/agents', { ...options }),
      get: (id, options) => this.#json('GET', `/agents/${enc(id)}`, { ...options }),
    };
    this.usage = {
      current: (options) => this.#json('GET', '/usage/current', { ...options, auth: this.#apiKey }),
      daily: (params = {}, options) =>
        this.#json('GET', `/usage/daily${queryString(params)}`, { ...options, auth: this.#apiKey }),
    };
    this.keys = {
      generate: (request = {}, options) =>
        this.#json('POST', '/keys/generate', {
          ...options,
          auth: this.#sessionToken,
          body: request,
          repeatable: false,
        }),
      list: (params = {}, options) =>
        this.#json('GET', `/keys${queryString(params)}`, { ...options, auth: this.#sessionToken }),
      get: (id, options) => this.#json('GET', `/keys/${enc(id)}`, { ...options, auth: this.#sessionToken }),
      update: (id, request, options) =>
        this.#json('PATCH', `/keys/${enc(id)}`, { ...options, auth: this.#sessionToken, body: request }),
      revoke: (id, options) =>
        this.#json('POST', `/keys/${enc(id)}/revoke`, { ...options, auth: this.#sessionToken }),
      roll: (id, request = {}, options) =>
        this.#json('POST', `/keys/${enc(id)}/roll`, {
          ...options,
          auth: this.#sessionToken,
          body: request,
          repeatable: false,
        }),
    };
  }

  /**
   * Calls an agent, by name or id, and pays it from your key's wallet: its output with the cost,
   * the payment and the receipt. Retried safely: every call carries an Idempotency-Key, so a retry
   * returns the first answer instead of paying twice. With `async: true`, answers at once with the
   * queued call (`tdk.calls.wait(id)` for the result).
   */
  call<TOutput = unknown>(
    agent: string,
    input: unknown,
    options?: CallOptions & { async?: false | undefined },
  ): Promise<CallResult<TOutput>>;
  call(agent: string, input: unknown, options: CallOptions & { async: true }): Promise<CallAccepted>;
  call<TOutput = unknown>(
    agent: string,
    input: unknown,
    options?: CallOptions,
  ): Promise<CallResult<TOutput> | CallAccepted>;
  call(agent: string, input: unknown, options: CallOptions = {}): Promise<CallResult | CallAccepted> {
    const { idempotencyKey = newIdempotencyKey(), async, ...request } = options;
    const body: CallRequest = { agent_id: agent, input, async };
    return this.#json('POST', '/v1/call', {
      ...request,
      auth: this.#apiKey,
      body,
      headers: { 'idempotency-key': idempotencyKey },
    });
  }

  async *#iterateCalls(
    params: Omit<ListCallsParams, 'cursor'> = {},
    options?: RequestOptions,
  ): AsyncGenerator<CallRecord, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.calls.list({ ...params, cursor }, options);
      yield* page.items;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  #json<T>(method: string, path: string, request: Outgoing): Promise<T> {
    return this.#send(method, path, request, async (res) => (await res.json()) as T);
  }

  /** One request with its retries, under one deadline; `read` runs on the first success. */
  async #send<T>(
    method: string,
    path: string,
    request: Outgoing,
    read: (res: Response) => Promise<T>,
  ): Promise<T> {
    const { auth, body, repeatable = true, maxRetries = this.#maxRetries } = request;
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    if (auth) headers.authorization = `Bearer ${auth}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const { signal, clear } = deadline(request.signal, request.timeoutMs ?? this.#timeoutMs);
    try {
      for (let attempt = 0; ; attempt++) {
        let error: TDKError;
        let retryAfter: number | undefined;
        try {
          const res = await this.#fetch(`${this.#baseUrl}/api/tdk${path}`, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            signal,
          });
          if (res.ok) return await read(res);
          retryAfter = secondsOf(res.headers.get('retry-after'));
          error = await errorOf(res, retryAfter);
        } catch (cause) {
          if (signal?.aborted) throw signal.reason;
          error = new ConnectionError(`${method} ${this.#baseUrl}/api/tdk${path} failed: ${String(cause)}`, {
            code: 'connection_error',
            cause,
          });
        }
        const delay = attempt < maxRetries ? retryDelay(error, attempt, retryAfter, repeatable) : undefined;
        if (delay === undefined) throw error;
        await sleep(delay, signal);
      }
    } finally {
      clear();
    }
  }

  async *#events(id: string, options: EventsOptions = {}): AsyncGenerator<CallEvent, void, undefined> {
    const { lastEventId, ...request } = options;
    let last = lastEventId === undefined ? undefined : String(lastEventId);
    for (let failures = 0; ; ) {
      const res = await this.#send(
        'GET',
        `/v1/calls/${enc(id)}/events`,
        {
          ...request,
          timeoutMs: 0,
          auth: this.#apiKey,
          headers: { accept: 'text/event-stream', ...(last ? { 'last-event-id': last } : {}) },
        },
        async (res) => res,
      );
      if (res.status === 204 || !res.body) return; // finished, and its last event already seen
      let progressed = false;
      try {
        for await (const message of readEvents(res.body)) {
          if (message.event !== 'status') continue;
          const event = JSON.parse(message.data) as CallEvent;
          last = message.id;
          progressed = true;
          yield event;
          if (event.status === 'succeeded' || event.status === 'failed') return;
        }
      } catch {
        if (request.signal?.aborted) throw request.signal.reason;
      }
      // The stream broke, or ended early (a server restarting): resume after the last event seen.
      failures = progressed ? 0 : failures + 1;
      if (failures > (request.maxRetries ?? this.#maxRetries)) {
        throw new ConnectionError(`The events of ${id} stopped before it finished.`, {
          code: 'connection_error',
        });
      }
      if (failures > 0) await sleep(backoff(failures - 1), request.signal);
    }
  }

  async #wait<TOutput>(id: string, options: EventsOptions = {}): Promise<CallResult<TOutput>> {
    let final: CallEvent | CallRecord | undefined;
    for await (const event of this.#events(id, options)) final = event;
    // Resumed after the final event, the stream has nothing left to say: the record has the outcome.
    final ??= await this.calls.get(id, options);
    if (final.result) return final.result as CallResult<TOutput>;
    const error = final.error ?? { code: 'call_failed', message: `The call ${id} is ${final.status}.` };
    throw errorFor(error.message, { code: error.code, details: error.details });
  }
}

/** A fresh Idempotency-Key: Web Crypto's UUID where there is one, else random enough to be unique per key. */
const newIdempotencyKey = (): string =>
  globalThis.crypto?.randomUUID?.() ??
  `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

/** The caller's signal, cut short after `timeoutMs` (0: never) with a TimeoutError. */
function deadline(signal: AbortSignal | undefined, timeoutMs: number) {
  if (!(timeoutMs > 0 && timeoutMs < Number.POSITIVE_INFINITY)) return { signal, clear() {} };
  const controller = new AbortController();
  const abort = () => controller.abort(signal?.reason);
  if (signal?.aborted) abort();
  signal?.addEventListener('abort', abort);
  const timer = setTimeout(
    () => controller.abort(new TimeoutError(`No answer within ${timeoutMs} ms.`, { code: 'timeout' })),
    timeoutMs,
  );
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
    },
  };
}

const sleep = (ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((resolve, reject) => {
    const abort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    if (signal?.aborted) abort();
    signal?.addEventListener('abort', abort);
  });

/** `Retry-After`, in seconds: a number of seconds or an HTTP date. */
function secondsOf(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = /^\d+$/.test(header) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
  return Number.isNaN(seconds) ? undefined : Math.max(0, seconds);
}

async function errorOf(res: Response, retryAfter: number | undefined): Promise<TDKError> {
  const text = await res.text().catch(() => '');
  let body: Partial<ErrorBody['error']> | undefined;
  try {
    body = (JSON.parse(text) as ErrorBody).error;
  } catch {
    // Not TDK's own answer (a proxy's page): the status has to do.
  }
  return errorFor(body?.message ?? `HTTP ${res.status} ${text.slice(0, 200)}`.trim(), {
    code: body?.code ?? 'http_error',
    status: res.status,
    requestId: body?.request_id ?? res.headers.get('x-request-id') ?? undefined,
    details: body?.details,
    retryAfter,
  });
}

/**
 * How long to wait before trying again, or undefined to give up. A 429 was refused before anything
 * happened, so it is always worth another try; after a network error or a 5xx the work may have been
 * done, so only repeatable requests go again (a call is, by its Idempotency-Key). An agent's failure is
 * final: a retry would only replay it.
 */
function retryDelay(error: TDKError, attempt: number, retryAfter: number | undefined, repeatable: boolean) {
  const status = error.status ?? 0;
  const transient =
    error instanceof ConnectionError ||
    (status >= 500 && !(error instanceof AgentError)) ||
    error.code === 'idempotency_in_progress';
  if (status !== 429 && !(repeatable && transient)) return undefined;
  if (retryAfter !== undefined) return retryAfter <= 60 ? retryAfter * 1000 : undefined;
  return backoff(attempt);
}

/** Exponential backoff with jitter: about 0.5 s, 1 s, 2 s… up to 8 s, each between half and all of it. */
const backoff = (attempt: number) => Math.min(8000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
