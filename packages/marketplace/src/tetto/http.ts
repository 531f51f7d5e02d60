import type { IncomingMessage, ServerResponse } from 'node:http';
import { isTettoPath, type TettoProtocol, type TettoReply } from './protocol';

export interface TettoHttpOptions {
  /** The largest request body taken. Default 1 MB. */
  maxBodyBytes?: number;
  /** Told of an error the protocol did not expect, answered as a bare 500 (e.g. to log it). */
  onError?: (error: unknown, req: IncomingMessage) => void;
}

/**
 * The protocol as a node:http request handler. Given `next` (as Express middleware), requests
 * outside the protocol's paths go on to it; without, they get the protocol's 404.
 */
export function tettoHttpHandler(
  protocol: TettoProtocol,
  options: TettoHttpOptions = {},
): (req: IncomingMessage, res: ServerResponse, next?: () => void) => void {
  const maxBodyBytes = options.maxBodyBytes ?? 1_000_000;

  async function answer(req: IncomingMessage, path: string): Promise<TettoReply> {
    const body = req.method === 'POST' ? await readBody(req, maxBodyBytes) : '';
    if (body === undefined) return { status: 413, body: { ok: false, error: 'Request body too large' } };
    return protocol.handle({ method: req.method ?? 'GET', path, body });
  }

  return (req, res, next) => {
    const { pathname } = new URL(req.url ?? '/', 'http://tetto');
    if (next && !isTettoPath(pathname)) return next();
    answer(req, pathname)
      .catch((error: unknown): TettoReply => {
        options.onError?.(error, req);
        return { status: 500, body: { ok: false, error: 'Internal error' } };
      })
      .then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
  };
}

/**
 * The body as text, or undefined when it is larger than `limit` bytes: said so up front, or found
 * while reading (leaving the loop destroys the request, so a client sending more than it declared is cut off).
 */
async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
