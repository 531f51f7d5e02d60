import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RpcProxy {
  /** Give this to TDK as SOLANA_RPC_URL. */
  url: string;
  /** JSON-RPC methods seen so far, in order. */
  readonly methods: string[];
  /** These methods are answered with a JSON-RPC error (an unhealthy node), the rest pass. */
  reject(methods: string[]): void;
  /** Every connection is dropped, as a node that went away. */
  down(): void;
  /** Back to passing everything through. */
  restore(): void;
  close(): Promise<void>;
}

/** A Solana JSON-RPC proxy in front of the local RPC server, for a chain that refuses or goes away. */
export async function startRpcProxy(targetUrl: string): Promise<RpcProxy> {
  const methods: string[] = [];
  let rejected = new Set<string>();
  let up = true;
  const server = createServer((req, res) => {
    if (!up) return void req.socket.destroy();
    readBody(req)
      .then(async (body) => {
        const { id = null, method } = JSON.parse(body) as { id?: unknown; method?: string };
        methods.push(String(method));
        if (!up) return void req.socket.destroy();
        if (rejected.has(String(method))) {
          const error = { code: -32005, message: 'Node is unhealthy (test proxy)' };
          return void res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ jsonrpc: '2.0', id, error }));
        }
        const answer = await fetch(targetUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        const text = await answer.text();
        // Went down while the node was answering: the caller never hears back.
        if (!up) return void req.socket.destroy();
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
      })
      .catch(() => req.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    methods,
    reject(names) {
      rejected = new Set(names);
    },
    down() {
      up = false;
      server.closeAllConnections();
    },
    restore() {
      up = true;
      rejected = new Set();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
