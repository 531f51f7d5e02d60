import { describe, expect, it } from 'vitest';
import { readEvents, type SseMessage } from '../src/sse';

/** A body arriving in exactly these pieces. */
function body(chunks: Array<string | Uint8Array>, onCancel?: () => void) {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks)
        controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
      if (!onCancel) controller.close();
    },
    cancel: onCancel,
  });
}

async function read(chunks: Array<string | Uint8Array>): Promise<SseMessage[]> {
  const messages: SseMessage[] = [];
  for await (const message of readEvents(body(chunks))) messages.push(message);
  return messages;
}

describe('readEvents', () => {
  it('reads events, ids, multi-line data and skips comments', async () => {
    expect(
      await read([': keep-alive\n\n', 'event: status\nid: 1\ndata: {"a":1}\n\n', 'data:x\ndata: y\n\n']),
    ).toEqual([
      { event: 'status', id: '1', data: '{"a":1}' },
      // The id is the last one seen; an event without a name is a "message".
      { event: 'message', id: '1', data: 'x\ny' },
    ]);
  });

  it('takes CR, LF and CRLF line ends, also split across chunks, and UTF-8 split mid-character', async () => {
    const euro = new TextEncoder().encode('data: €\n\n');
    expect(
      await read(['event: a\r', '\ndata: 1\r\n\r', '\n', 'data: 2\r\r', euro.slice(0, 7), euro.slice(7)]),
    ).toEqual([
      { event: 'a', id: undefined, data: '1' },
      { event: 'message', id: undefined, data: '2' },
      { event: 'message', id: undefined, data: '€' },
    ]);
  });

  it('drops a message the stream ends in the middle of', async () => {
    expect(await read(['data: 1\n\ndata: 2\n'])).toEqual([{ event: 'message', id: undefined, data: '1' }]);
  });

  it('cancels the body when the reader stops early', async () => {
    let cancelled = false;
    const stream = body(['data: 1\n\n', 'data: 2\n\n'], () => {
      cancelled = true;
    });
    for await (const message of readEvents(stream)) {
      expect(message.data).toBe('1');
      break;
    }
    expect(cancelled).toBe(true);
  });
});
