import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  /** Where to connect instead of the target (127.0.0.1). */
  port: number;
  /** The service goes away: open connections are reset and new ones refused until `restore`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** A TCP proxy to `127.0.0.1:targetPort` that a test can cut and restore, e.g. between TDK and Postgres. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let up = true;
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    // A reset peer is the point of the exercise, not an error of the test.
    socket.on('error', () => undefined);
  };
  const server = createServer((client) => {
    track(client);
    if (!up) return void client.resetAndDestroy();
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the proxy has no port');
  const resetAll = () => {
    for (const socket of open) socket.resetAndDestroy();
  };
  return {
    port: address.port,
    cut() {
      up = false;
      resetAll();
    },
    restore() {
      up = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        resetAll();
      }),
  };
}
