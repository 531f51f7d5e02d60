import {
  type AppRouter,
  afterSeqOf,
  type Context,
  readCallEvents,
  toAppError,
  watchCallEvents,
} from '@tdk/api';
import { AppError } from '@tdk/core';
import type { TRPCError } from '@trpc/server';
import type { Request, RequestHandler, Response } from 'express';

export const callEventsPath = '/api/tdk/v1/calls/{id}/events';

/** Proxies drop connections that stay silent; a comment line every 15 s keeps the stream open. */
const keepAliveMs = 15_000;

/** Streams one key may hold open at once on a server process: each reads the database until its call ends. */
export const maxStreamsPerKey = 10;

/**
 * `GET /api/tdk/v1/calls/{id}/events`: a call's status changes as Server-Sent Events, from the first
 * one (or after `Last-Event-ID`), each as `event: status` with `id: <seq>`. The stream ends after
 * the final status. Events come from the `call_event` table, so any server process can serve them.
 */
export function callEvents(
  router: AppRouter,
  createContext: (opts: { req: Request; res: Response }) => Context,
): RequestHandler {
  const openStreams = new Map<string, number>();
  return async (req, res) => {
    const id = String(req.params.id);
    const ctx = createContext({ req, res });
    // Exactly GET /v1/calls/{id}'s check: any key of the call's account; for anyone else it does not exist.
    try {
      await router.createCaller(ctx).calls.get({ id });
    } catch (error) {
      const app = toAppError(error as TRPCError);
      if (app.code === 'internal_error') req.log.error({ err: error }, 'call events failed');
      throw app; // answered in the documented error format
    }
    const { db } = ctx.services;
    const afterSeq = afterSeqOf(req.get('last-event-id'));
    // Reconnecting after the final event (EventSource does so by itself): 204 tells it to stop.
    const pending = await readCallEvents(db, id, afterSeq);
    if (pending?.finished && pending.events.length === 0) {
      res.status(204).end();
      return;
    }

    // The key is verified and cached by the check above.
    const keyId = (await ctx.services.apiKeys.verify(ctx.credential ?? '')).key.id;
    const open = openStreams.get(keyId) ?? 0;
    if (open >= maxStreamsPerKey) {
      throw new AppError(
        'rate_limited',
        `This key has ${maxStreamsPerKey} event streams open, the most it may; close one first.`,
        { headers: { 'Retry-After': '1' } },
      );
    }
    openStreams.set(keyId, open + 1);
    try {
      await stream(res, db, id, afterSeq);
    } finally {
      const left = (openStreams.get(keyId) ?? 1) - 1;
      if (left > 0) openStreams.set(keyId, left);
      else openStreams.delete(keyId);
    }
  };
}

/** Writes the call's events after `afterSeq` as Server-Sent Events until the final one, then ends. */
async function stream(res: Response, db: Context['services']['db'], id: string, afterSeq: number) {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  const closed = new AbortController();
  res.on('close', () => closed.abort());
  const send = (text: string) => {
    if (!closed.signal.aborted) res.write(text);
  };
  const keepAlive = setInterval(() => send(': keep-alive\n\n'), keepAliveMs);
  try {
    for await (const event of watchCallEvents(db, id, { afterSeq, signal: closed.signal })) {
      send(`event: status\nid: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`);
    }
  } finally {
    clearInterval(keepAlive);
    res.end();
  }
}
