import autocannon from 'autocannon';

export interface Target {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface Measured {
  connections: number;
  /** Successful (2xx) answers per second. */
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Mean latency by Little's law (connections / throughput): finer than the histogram's whole milliseconds. */
  mean: number;
  non2xx: number;
  /** Socket errors and timeouts. */
  errors: number;
  /** Answers of any status. */
  answered: number;
}

/** POSTs the target from `connections` keep-alive connections for `seconds`, as fast as it answers. */
export async function measure(target: Target, connections: number, seconds: number): Promise<Measured> {
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    headers: target.headers,
    body: target.body,
    connections,
    duration: seconds,
    // The load runs in its own thread, so it does not compete with TDK for this one's event loop.
    workers: 1,
  });
  const answered = result.requests.total;
  return {
    connections,
    requestsPerSecond: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: answered > 0 ? (connections * result.duration * 1000) / answered : Number.NaN,
    non2xx: result.non2xx,
    errors: result.errors,
    answered,
  };
}
