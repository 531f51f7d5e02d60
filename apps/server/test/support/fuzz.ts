import fc from 'fast-check';
import type { Schema } from './openapi';

/** Strings that have broken servers before: injections, encodings, edge numbers, path tricks. */
const nastyStrings = [
  '',
  ' ',
  '\t\n',
  'null',
  'undefined',
  'true',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '0x1F',
  '9007199254740993',
  '-1',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  "' OR '1'='1",
  "'; DROP TABLE app_user; --",
  '1; SELECT pg_sleep(10)',
  '$1',
  '%s%s%n',
  '{"$gt":""}',
  '{"$ne":null}',
  '$where',
  '../../../../etc/passwd',
  '..%2f..%2f',
  '%00',
  '%',
  '%zz',
  '\\',
  '/',
  '?#;',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'a\ud83d',
  '\u202eevil',
  '\u200f\u0627\u0644\u0639\u0631\u0628\u064a\u0629',
  '\u200b',
  '\ufeff',
  '\uffff',
  '𝕿𝖉𝖐',
  '👩‍👩‍👧‍👦',
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
  '<script>alert(1)</script>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, on purpose
  '${7*7}',
  '{{7*7}}',
  '\r\nSet-Cookie: x=1',
  'tdk_test_',
  'tdk_live_11111111111111111111111111111111',
  'usr_',
  'call_',
  'a'.repeat(65),
  'x'.repeat(5_000),
];

/** Numbers at and past every edge a schema may have. */
const edgeNumbers = [0, -0, -1, 1, 0.5, -0.5, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e308, -1e308, 5e-324];

/** JSON texts no parser should choke on (and a few that are valid but hostile). */
const malformedJson = [
  '',
  '{',
  '}',
  '[',
  '{"a":}',
  '{"a":1,}',
  'nul',
  'NaN',
  '{"a":NaN}',
  '{"a":Infinity}',
  '{"limit":1e999}',
  '{"a":1,"a":2}',
  "{'a':1}",
  '\ufeff{}',
  '{"__proto__":{"role":"admin","isAdmin":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '"just a string"',
  '123',
  'true',
  'null',
  '[]',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  '{"a":"\\x00"}',
  '\u0000',
  '{"a":"unterminated',
];

export interface FuzzValues {
  /** Any string: from the nasty list, random code units (lone surrogates included), or a known id. */
  text: fc.Arbitrary<string>;
  number: fc.Arbitrary<number>;
  /** Any JSON value, keys and strings nasty. */
  json: fc.Arbitrary<unknown>;
  /** Values shaped by a JSON Schema, each part either valid-looking or wrong. */
  fromSchema(schema: Schema): fc.Arbitrary<unknown>;
  /** A request body as text: mostly schema-shaped JSON, else any JSON, malformed JSON, deep nesting or bytes. */
  body(schema: Schema | undefined): fc.Arbitrary<string>;
}

/** The arbitraries, with `knownIds` (real key, call, user and agent ids) mixed in to reach deeper code. */
export function fuzzValues(knownIds: string[]): FuzzValues {
  const text = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...nastyStrings) },
    { weight: 3, arbitrary: fc.constantFrom(...knownIds) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 200 }) },
  );
  // Only in bodies: in a header or a URL it would just meet the 16 KB header limit every time.
  const huge = fc.integer({ min: 10_000, max: 200_000 }).map((n) => 'x'.repeat(n));
  const number = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(...edgeNumbers));
  const key = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'id', 'input'), text);
  const { json } = fc.letrec<{ json: unknown }>((tie) => ({
    json: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom(null, true, false),
      text,
      number,
      fc.array(tie('json'), { maxLength: 4 }),
      fc.dictionary(key, tie('json'), { maxKeys: 4 }),
    ),
  }));

  function fromSchema(schema: Schema): fc.Arbitrary<unknown> {
    const wrong = { weight: 1, arbitrary: json };
    const right = (arbitrary: fc.Arbitrary<unknown>) => fc.oneof({ weight: 4, arbitrary }, wrong);
    if (Array.isArray(schema.enum)) return right(fc.constantFrom(...schema.enum));
    if ('const' in schema) return right(fc.constant(schema.const));
    const variants = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
    if (variants) return fc.oneof(...variants.map(fromSchema));
    const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
    switch (type) {
      case 'string':
        return right(
          schema.format === 'date-time'
            ? fc.date({ noInvalidDate: true }).map((d) => d.toISOString())
            : fc.oneof({ weight: 9, arbitrary: text }, { weight: 1, arbitrary: huge }),
        );
      case 'integer':
      case 'number': {
        const min = typeof schema.minimum === 'number' ? schema.minimum : -1_000_000;
        const max = typeof schema.maximum === 'number' ? schema.maximum : 1_000_000;
        return right(fc.oneof(fc.integer({ min, max }), number));
      }
      case 'boolean':
        return right(fc.boolean());
      case 'array':
        return right(fc.array(fromSchema((schema.items as Schema | undefined) ?? {}), { maxLength: 4 }));
      case 'object': {
        const properties = (schema.properties ?? {}) as Record<string, Schema>;
        const known = fc.record(
          Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, fromSchema(s)])),
          { requiredKeys: [] },
        );
        const extra = fc.dictionary(key, json, { maxKeys: 2 });
        return right(fc.tuple(known, extra).map(([k, e]) => ({ ...e, ...k })));
      }
      default:
        return json;
    }
  }

  function body(schema: Schema | undefined): fc.Arbitrary<string> {
    const shaped = fromSchema(schema ?? { type: 'object' });
    const names = Object.keys((schema?.properties ?? {}) as Record<string, unknown>);
    const deep = fc
      .tuple(fc.integer({ min: 50, max: 20_000 }), fc.boolean(), fc.constantFrom('x', ...names))
      .map(([depth, arrays, name]) => {
        const nested = arrays
          ? `${'['.repeat(depth)}${']'.repeat(depth)}`
          : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
        return `{${JSON.stringify(name)}:${nested}}`;
      });
    return fc.oneof(
      { weight: 8, arbitrary: shaped.map(stringify) },
      { weight: 2, arbitrary: json.map(stringify) },
      { weight: 2, arbitrary: fc.constantFrom(...malformedJson) },
      { weight: 1, arbitrary: deep },
      { weight: 1, arbitrary: shaped.map((v) => stringify(v).slice(0, -1)) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    );
  }

  return { text, number, json, fromSchema, body };
}

const stringify = (value: unknown) => JSON.stringify(value) ?? '';

/** Content types a client may claim, right or wrong. */
const contentTypes = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'application/json; charset=koi8-r',
      'application/json; charset="\u00ff"',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/vnd.api+json',
      'application/json, text/plain',
      '*/*',
      ';;;',
      '',
    ),
  },
);

/** A path segment as a client would send it: percent-encoded UTF-8, or raw. */
export const encodeSegment = (segment: string, raw: boolean): string =>
  raw ? segment.replace(/[/?#\s]/g, '') || '%' : percentEncode(segment);

/** encodeURIComponent, but lone surrogates go out as the replacement character instead of throwing. */
export const percentEncode = (value: string): string =>
  [...Buffer.from(value, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

/** A header value fetch will send: UTF-8 bytes as Latin-1 characters, minus control characters (raw tests send those). */
export const headerValue = (value: string): string =>
  [...Buffer.from(value, 'utf8').toString('latin1')]
    .filter((c) => c === '\t' || (c >= ' ' && c !== '\x7f'))
    .join('');

/** The headers every request may carry besides its credentials, each present or not. */
export function extraHeaders(values: FuzzValues): fc.Arbitrary<Record<string, string>> {
  const value = values.text.map(headerValue);
  return fc
    .record(
      {
        'content-type': contentTypes,
        'idempotency-key': value,
        'last-event-id': fc.oneof(value, fc.integer().map(String)),
        'x-request-id': value,
        accept: fc.constantFrom('text/event-stream', 'application/xml', '*/*', '', 'application/json;q=0'),
        'content-encoding': fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'zzz'),
        'x-forwarded-for': value,
        'x-large': fc.integer({ min: 1_000, max: 12_000 }).map((n) => 'h'.repeat(n)),
      },
      { requiredKeys: [] },
    )
    .map((headers) => {
      // Mostly JSON: content negotiation is one failure among many, not the usual one.
      if (headers['content-type'] === undefined) headers['content-type'] = 'application/json';
      return headers;
    });
}

export interface FuzzRequest {
  method: string;
  /** Path and query, already encoded. */
  target: string;
  headers: Record<string, string>;
  body?: string | undefined;
}

export interface FuzzResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** Sends a request with fetch; an event stream is read until it ends or for at most a few seconds. */
export async function send(baseUrl: string, request: FuzzRequest): Promise<FuzzResponse> {
  const bodyless = request.method === 'GET' || request.method === 'HEAD';
  const attempt = () =>
    fetch(`${baseUrl}${request.target}`, {
      method: request.method,
      headers: request.headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
      ...(bodyless || request.body === undefined ? {} : { body: request.body }),
    });
  // A pooled keep-alive connection the server closed as idle just as the request went out is reset
  // before the server saw anything (a client-side race, worst under load): sent once more, as
  // browsers and HTTP clients do. A server that resets the retry too fails the test.
  const res = await attempt().catch((error: unknown) => {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return attempt();
    throw error;
  });
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    const reader = res.body?.getReader();
    const timer = setTimeout(() => void reader?.cancel(), 3_000);
    let text = '';
    const decoder = new TextDecoder();
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
      text += decoder.decode(chunk.value, { stream: true });
    }
    clearTimeout(timer);
    return { status: res.status, headers: res.headers, text };
  }
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Traces of a stack or source path in an answer: internals leaking. */
export const leaksInternals = (text: string): boolean =>
  /\bat [\w.<>]+ \(|node_modules|\.ts:\d+|\.js:\d+:\d+/.test(text);
