import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody, newId } from '@tdk/core';

const statusOf: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'The request headers are too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request took too long to arrive.'],
};

/**
 * Requests Node's HTTP parser refuses before any route sees them (malformed, headers over 16 KB) get
 * the documented error body too, instead of Node's bare status line.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // As Node's own handler: no answer while a response is already going out on this connection.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || inFlight?.headersSent) return socket.destroy();
    const [status, reason, message] = statusOf[err.code ?? ''] ?? [
      400,
      'Bad Request',
      'The request is not valid HTTP.',
    ];
    const requestId = newId('request');
    const body = JSON.stringify(errorBody('invalid_input', message, requestId));
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
    socket.destroy();
  });
}
