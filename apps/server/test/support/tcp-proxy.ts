import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  /** Where to connect instead of the target (127.0.0.1). */
  port: number;
  /** The service goes away: open connections are reset and new ones refused until `restore`. */
  cut(): void;
  /**
   * The network goes silent, as in a partition: open connections stay open but nothing passes either
   * way, and new ones are accepted and left unanswered, until `restore`.
   */
  stall(): void;
  restore(): void;
  close(): Promise<void>;
}

/** A TCP proxy to `127.0.0.1:targetPort` that a test can cut, stall and restore, e.g. between TDK and Postgres. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const held = new Set<Socket>();
  let state: 'up' | 'cut' | 'stalled' = 'up';
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    // A reset peer is the point of the exercise, not an error of the test.
    socket.on('error', () => undefined);
  };
  const join = (client: Socket) => {
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream).pipe(client);
    client.on('close', () => {
      upstream.destroy();
      pairs.delete(pair);
    });
    upstream.on('close', () => client.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (state === 'cut') return void client.resetAndDestroy();
    if (state === 'stalled') {
      held.add(client);
      client.on('close', () => held.delete(client));
      return;
    }
    join(client);
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
      state = 'cut';
      resetAll();
    },
    stall() {
      state = 'stalled';
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    restore() {
      if (state === 'stalled') {
        for (const { client, upstream } of pairs) {
          client.pipe(upstream).pipe(client);
          client.resume();
          upstream.resume();
        }
        for (const client of held) join(client);
        held.clear();
      }
      state = 'up';
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        resetAll();
      }),
  };
}
