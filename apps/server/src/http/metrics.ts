import type { RequestHandler } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * HTTP metrics on the app's registry (one per app, so tests can run several apps in one process). Routes are labelled by their template, never the raw URL, to keep cardinality bounded.
 */
export interface HttpMetrics {
  registry: Registry;
  middleware: RequestHandler;
}

export function createHttpMetrics(
  registry: Registry,
  routeOf: (method: string, path: string) => string,
): HttpMetrics {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'tdk_http_requests_total',
    help: 'HTTP requests answered, by route template and status.',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'tdk_http_request_duration_seconds',
    help: 'HTTP request latency, by route template and status.',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const middleware: RequestHandler = (req, res, next) => {
    const stop = duration.startTimer();
    res.on('finish', () => {
      const labels = {
        method: req.method,
        route: routeOf(req.method, req.originalUrl.split('?')[0] ?? ''),
        status: String(res.statusCode),
      };
      requests.inc(labels);
      stop(labels);
    });
    next();
  };
  return { registry, middleware };
}
