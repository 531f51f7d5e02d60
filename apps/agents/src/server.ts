import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answersAgent, createAnswersHandler, type TaughtAnswer } from './answers';
import {
  brokenHandler,
  createSlowHandler,
  invalidOutputHandler,
  MAX_DELAY_MS,
  testFixtures,
} from './fixtures';
import { createMemoryHandler, memoryAgent } from './memory';
import { AgentError, type AgentHandler, badInput, isObject, type JsonObject } from './protocol';
import { createMapStore } from './store';

export interface AgentServerOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The slow fixture's delay when its input gives no `delay_ms`. Default 25 s: past a simple agent's 20 s. */
  slowMs?: number;
}

export interface AgentServer {
  /** e.g. `http://127.0.0.1:43127`. */
  url: string;
  /** Endpoint URLs of the example agents, to register as their listings' `endpoint_url`. */
  agents: { memory: string; answers: string };
  /** Endpoint URLs of the test fixtures (see `testFixtures`). */
  fixtures: { slow: string; broken: string; invalidOutput: string };
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * One HTTP server hosting the example agents at `/agents/<name>`, the test fixtures beside them, and
 * `/healthz`. Each agent speaks the Tetto wire protocol: `POST { input, tetto_context }` → 200 with
 * its output, or `{ error }` with a 4xx (bad envelope or input) or 5xx status. Data lives in memory,
 * one set per server.
 */
export async function startAgentServer(options: AgentServerOptions = {}): Promise<AgentServer> {
  const slowMs = options.slowMs ?? 25_000;
  if (!Number.isInteger(slowMs) || slowMs < 0 || slowMs > MAX_DELAY_MS) {
    throw new RangeError(`slowMs must be an integer from 0 to ${MAX_DELAY_MS}`);
  }
  const handlers = new Map<string, AgentHandler>([
    [memoryAgent.name, createMemoryHandler(createMapStore<string>())],
    [answersAgent.name, createAnswersHandler(createMapStore<TaughtAnswer>())],
    [testFixtures.slow.name, createSlowHandler(slowMs)],
    [testFixtures.broken.name, brokenHandler],
    [testFixtures.invalidOutput.name, invalidOutputHandler],
  ]);

  const server = createServer((req, res) => {
    route(req, res, handlers).catch(() => send(res, 500, { error: 'internal error' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  const at = (name: string) => `${url}/agents/${name}`;

  return {
    url,
    agents: { memory: at(memoryAgent.name), answers: at(answersAgent.name) },
    fixtures: {
      slow: at(testFixtures.slow.name),
      broken: at(testFixtures.broken.name),
      invalidOutput: at(testFixtures.invalidOutput.name),
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Clients keep connections alive, and the slow fixture holds its own; end them now.
        server.closeAllConnections();
      }),
  };
}

async function route(req: IncomingMessage, res: ServerResponse, handlers: Map<string, AgentHandler>) {
  const path = new URL(req.url ?? '/', 'http://agents').pathname;
  if (path === '/healthz') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'use GET' }, 'GET');
    return send(res, 200, { ok: true });
  }
  const handler = path.startsWith('/agents/') ? handlers.get(path.slice('/agents/'.length)) : undefined;
  if (handler === undefined) return send(res, 404, { error: `no agent at ${path}` });
  if (req.method !== 'POST') return send(res, 405, { error: 'agents take POST' }, 'POST');

  const body = await readBody(req);
  if (body === undefined) return send(res, 413, { error: `body must be at most ${MAX_BODY_BYTES} bytes` });
  // Ends the handler's work (the slow fixture's wait) when the caller hangs up.
  const hangUp = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) hangUp.abort();
  });
  try {
    const { input, callerWallet } = readEnvelope(body);
    send(res, 200, await handler(input, { callerWallet, signal: hangUp.signal }));
  } catch (error) {
    if (error instanceof AgentError) send(res, error.status, { error: error.message });
    else send(res, 500, { error: 'internal error' });
  }
}

/** The wire envelope `{ input, tetto_context }`; handlers only need the caller's wallet from it. */
function readEnvelope(body: string): { input: JsonObject; callerWallet: string } {
  let envelope: unknown;
  try {
    envelope = JSON.parse(body);
  } catch {
    throw badInput('body must be JSON: { input, tetto_context }');
  }
  if (!isObject(envelope)) throw badInput('body must be a JSON object: { input, tetto_context }');
  const { input, tetto_context: context } = envelope;
  if (!isObject(input)) throw badInput('input must be a JSON object');
  if (!isObject(context)) throw badInput('tetto_context must be a JSON object');
  const callerWallet = context.caller_wallet;
  if (typeof callerWallet !== 'string' || callerWallet === '') {
    throw badInput('tetto_context.caller_wallet must be a non-empty string');
  }
  return { input, callerWallet };
}

/**
 * The body as text, or undefined past MAX_BODY_BYTES. An oversized body is still drained (and
 * dropped) rather than destroyed, so the caller gets to read the 413.
 */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
      } else {
        chunks.length = 0;
        resolve(undefined);
      }
    });
    req.on('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks).toString('utf8') : undefined));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: JsonObject, allow?: string): void {
  // The caller may have hung up, or an answer may already be on its way.
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...(allow ? { allow } : {}) });
  res.end(JSON.stringify(body));
}
