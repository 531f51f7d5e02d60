import { connect } from 'node:net';

export interface RawResponse {
  /** 0 when the server closed the connection, or stayed silent, without answering. */
  status: number;
  head: string;
  body: string;
}

/**
 * Writes bytes no HTTP client would send (broken request lines, NUL in headers, lying lengths) on a
 * fresh connection and reads the first answer, whatever the server makes of them.
 */
export function rawRequest(baseUrl: string, bytes: string | Buffer, timeoutMs = 3_000): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const bytes = Buffer.concat(chunks);
      const end = bytes.indexOf('\r\n\r\n');
      const head = bytes.subarray(0, end < 0 ? bytes.length : end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? bytes.length);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({
        status,
        head,
        body: end < 0 ? '' : bytes.subarray(end + 4, end + 4 + length).toString('utf8'),
      });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      // One answer is all we wait for: a complete head and a body as long as it says.
      const bytes = Buffer.concat(chunks);
      const end = bytes.indexOf('\r\n\r\n');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(bytes.toString('latin1'))?.[1] ?? Number.NaN);
      if (end >= 0 && bytes.length - end - 4 >= length) finish();
    });
    socket.on('end', finish);
    socket.on('error', finish);
    socket.write(bytes);
  });
}
