import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does to one request, in arrival order; requests past the list just pass. */
export type Fault =
  /** Answer this instead, without forwarding: the server never sees the request. */
  | { answer: { status: number; headers?: Record<string, string>; body?: string } }
  /** Forward, let the server do the work, then lose its answer: this status instead. */
  | { loseAnswer: { status: number } }
  /** Forward, then cut the connection before answering. */
  | 'reset'
  /** Forward a stream, and end it after this many events. */
  | { endStreamAfterEvents: number };

export interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** What the server answered, when the request reached it. */
  upstream?: { status: number; body: string };
}

/**
 * A tiny HTTP proxy in front of the real server that plays the network's tricks — a 429 or 503 from
 * a load balancer, an answer lost after the work was done, a dropped connection — and records every
 * request the SDK sent.
 */
export async function startProxy(target: string, faults: Fault[]) {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    const entry: Seen = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
    seen.push(entry);
    const fault = faults.shift();
    if (typeof fault === 'object' && 'answer' in fault) {
      res.writeHead(fault.answer.status, fault.answer.headers).end(fault.answer.body);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(
        ([name]) => !['host', 'connection', 'content-length'].includes(name),
      ),
    ) as Record<string, string>;
    const upstream = await fetch(`${target}${entry.path}`, {
      method: entry.method,
      headers,
      ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
    });
    if (fault === 'reset') {
      entry.upstream = { status: upstream.status, body: await upstream.text() };
      req.socket.destroy();
      return;
    }
    if (typeof fault === 'object' && 'loseAnswer' in fault) {
      entry.upstream = { status: upstream.status, body: await upstream.text() };
      res.writeHead(fault.loseAnswer.status, { 'content-type': 'text/plain' }).end('upstream lost');
      return;
    }
    res.writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'application/json',
      ...(upstream.headers.get('retry-after')
        ? { 'retry-after': upstream.headers.get('retry-after') ?? '' }
        : {}),
    });
    const body = (upstream.body ?? []) as AsyncIterable<Uint8Array>;
    if (typeof fault !== 'object') {
      for await (const chunk of body) res.write(chunk);
      res.end();
      return;
    }
    // Exactly the first events, however the server's writes were chunked, then a clean end.
    let text = '';
    for await (const chunk of body) {
      text += Buffer.from(chunk).toString();
      const events = text.split('\n\n');
      if (events.length > fault.endStreamAfterEvents) {
        res.end(`${events.slice(0, fault.endStreamAfterEvents).join('\n\n')}\n\n`);
        return;
      }
    }
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
