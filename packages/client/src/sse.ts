/** One Server-Sent Events message. */
export interface SseMessage {
  event: string;
  data: string;
  /** The last `id:` seen so far: what to send as `Last-Event-ID` to resume after this message. */
  id: string | undefined;
}

/**
 * The messages of an event stream, parsed as the HTML standard says (comments, multi-line data, CR,
 * LF or CRLF line ends), straight from a fetch body: no EventSource, so any header can be sent and it
 * runs wherever fetch does. Cancels the body when the caller stops early.
 */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let afterCr = false;
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      let text = decoder.decode(value, { stream: !done });
      // A CRLF split across two chunks is one line end, not two.
      if (afterCr && text.startsWith('\n')) text = text.slice(1);
      afterCr = text.endsWith('\r');
      const lines = (buffer + text).split(/\r\n|\r|\n/);
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), id };
          event = '';
          data = [];
          continue;
        }
        const colon = line.indexOf(':');
        if (colon === 0) continue; // a comment, e.g. a keep-alive
        const field = colon < 0 ? line : line.slice(0, colon);
        const content = colon < 0 ? '' : line.slice(line[colon + 1] === ' ' ? colon + 2 : colon + 1);
        if (field === 'event') event = content;
        else if (field === 'data') data.push(content);
        else if (field === 'id' && !content.includes('\0')) id = content;
      }
      if (done) return; // a message without its closing blank line is dropped, as the standard says
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
