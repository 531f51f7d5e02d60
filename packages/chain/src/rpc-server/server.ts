import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EmbeddedChain, embeddedChainOn } from '../embedded/chain';
import { LocalRuntime, type RuntimeOptions } from '../embedded/runtime';
import { type Hooks, RpcError, rpcMethods } from './methods';

export interface LocalRpcServerOptions extends RuntimeOptions {
  /** Default 0: a free port. The server listens on 127.0.0.1 only. */
  port?: number;
  /** Test hook: acknowledge but drop the first N sendTransaction calls. */
  dropSubmissions?: number;
  /** Test hook: landed transactions stay `processed`, not `confirmed`, for this long. */
  confirmationDelayMs?: number;
  /** Test hook: keep every request received in `requests`. */
  recordRequests?: boolean;
}

export interface LocalRpcServer {
  /** e.g. `http://127.0.0.1:43127`, for `createRpcChain({ url, network: 'localnet', usdcMint })`. */
  readonly url: string;
  /** The served chain itself, e.g. to fund the treasury or read its USDC mint. */
  readonly chain: EmbeddedChain;
  /** The JSON-RPC requests received, in order (with `recordRequests`). */
  readonly requests: ReadonlyArray<{ method: string; params: unknown[] }>;
  /** Test hook: closes N blocks, so blockhashes issued 150 or more blocks before expire. */
  advanceBlocks(count: number): void;
  /** Test hook: acknowledge but drop the next N sendTransaction calls. */
  dropSubmissions(count: number): void;
  close(): Promise<void>;
}

/**
 * A Solana JSON-RPC 2.0 endpoint on the embedded runtime, so the RPC adapter runs against a real
 * HTTP chain and several TDK processes can share one local chain.
 */
export async function startLocalRpcServer(options: LocalRpcServerOptions = {}): Promise<LocalRpcServer> {
  const runtime = await LocalRuntime.create(options);
  const hooks: Hooks = {
    drops: options.dropSubmissions ?? 0,
    confirmationDelayMs: options.confirmationDelayMs ?? 0,
  };
  const methods = rpcMethods(runtime, hooks);
  const requests: Array<{ method: string; params: unknown[] }> = [];

  async function answer(body: string): Promise<unknown> {
    let request: { id?: unknown; method?: unknown; params?: unknown } | null;
    try {
      request = JSON.parse(body);
    } catch {
      return { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } };
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      return {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: 'Invalid request (no batches here)' },
      };
    }
    const { id = null, method } = request;
    const params = Array.isArray(request.params) ? request.params : [];
    if (options.recordRequests) requests.push({ method: String(method), params });
    const handler =
      typeof method === 'string' && Object.hasOwn(methods, method) ? methods[method] : undefined;
    if (!handler) return { jsonrpc: '2.0', id, error: { code: -32601, message: 'Method not found' } };
    try {
      return { jsonrpc: '2.0', id, result: await handler(params) };
    } catch (error) {
      const { code, message, data } =
        error instanceof RpcError
          ? error
          : { code: -32603, message: `Internal error: ${error}`, data: undefined };
      return { jsonrpc: '2.0', id, error: { code, message, ...(data === undefined ? {} : { data }) } };
    }
  }

  const server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    readBody(req)
      .then(answer)
      .then((reply) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply)))
      .catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    chain: embeddedChainOn(runtime),
    requests,
    advanceBlocks: (count) => runtime.advanceBlocks(count),
    dropSubmissions: (count) => {
      hooks.drops = count;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Clients keep connections alive; without this, close waits for them to time out.
        server.closeAllConnections();
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
