import {
  type AppRouter,
  type Context,
  createOpenApiDocument,
  handleStripeWebhook,
  type Services,
  toAppError,
} from '@tdk/api';
import { assertStorableInput, type TettoStore } from '@tdk/core';
import { type LocalMarketplace, tettoRoutes } from '@tdk/marketplace';
import type { TRPCError } from '@trpc/server';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import type { Registry } from 'prom-client';
import swaggerUi from 'swagger-ui-express';
import { createOpenApiNodeHttpHandler } from 'trpc-to-openapi';
import type { TrustProxy } from '../config';
import type { Logger } from '../logger';
import { adminApp } from './admin-app';
import { callEvents, callEventsPath } from './call-events';
import { documentedRestErrors, errorHandler, notFound } from './errors';
import { createHttpMetrics } from './metrics';
import { requestContext, requestIdOf } from './request-context';
import { createRouteTable } from './route-label';
import { noSniff, noStore, pageHeaders } from './security-headers';
import { credentialOf, csrfGuard, sessionCookieFor } from './session-cookie';
import { tettoEndpoints } from './tetto';

/**
 * `curl -X POST …/auth/logout` sends no body and no content type; the REST adapter would answer 415.
 * A request without a body has nothing to misread, so it is taken as JSON.
 */
const bodylessPostsAsJson: RequestHandler = (req, _res, next) => {
  const hasBody =
    Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody && !req.headers['content-type']) req.headers['content-type'] = 'application/json';
  next();
};

/**
 * RFC 3986 makes a percent-encoded unreserved character the character itself (`%6Demory` is
 * `memory`), and clients that encode every path parameter may send them so; the REST adapter matches
 * paths as they come, so they are decoded here.
 */
const unreservedPathDecoded: RequestHandler = (req, _res, next) => {
  if (req.url.includes('%')) {
    const queryAt = req.url.indexOf('?');
    const path = queryAt === -1 ? req.url : req.url.slice(0, queryAt);
    const decoded = path.replace(/%(?:[46][1-9a-f]|[57][0-9a]|3[0-9]|2[de]|5f|7e)/gi, (encoded) =>
      String.fromCharCode(Number.parseInt(encoded.slice(1), 16)),
    );
    req.url = decoded + (queryAt === -1 ? '' : req.url.slice(queryAt));
  }
  next();
};

/**
 * The REST adapter turns the parsed body back into JSON text before the procedure's own input check
 * runs, so absurdly nested bodies are refused here, before that can overflow the stack.
 */
const storableJson: RequestHandler = (req, _res, next) => {
  assertStorableInput(req.body);
  next();
};

/**
 * The most calls one tRPC request may batch (400 beyond): unbounded, one request could make the
 * server verify hundreds of passwords. The admin app batches the queries a page makes at once: six
 * on its busiest (usage and billing).
 */
const trpcMaxBatchSize = 20;

/**
 * A readiness check that has not answered by then counts as unavailable: a stalled dependency
 * (a database that accepts and never answers) must make `/readyz` say so, not hang the probe.
 */
const readinessTimeoutMs = 2_000;

function answersWithin(check: Promise<void>, ms: number, name: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([check, late]).finally(() => clearTimeout(timer));
}

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface HttpAppOptions {
  router: AppRouter;
  services: Services;
  logger: Logger;
  readiness: ReadinessCheck[];
  maxBodyBytes: number;
  trustProxy: TrustProxy;
  registry: Registry;
  /**
   * Served as Tetto-shaped endpoints at `/api/agents…` and `/api/receipts/…` (with the local
   * marketplace), their intents and receipts kept in `store`.
   */
  tetto?: { marketplace: LocalMarketplace; store: TettoStore } | undefined;
  /** Per client IP, for the public Tetto endpoints. */
  tettoRequestsPerMinute: number;
  /** The admin app's production build, served at /admin. */
  adminDistDir: string;
  /** `TDK_PUBLIC_URL`: an https one makes the session cookie Secure whatever the proxy says. */
  publicUrl?: string | undefined;
}

/** The Express host: health, metrics, docs, tRPC at /trpc and the same procedures as REST at /api. */
export function createHttpApp(options: HttpAppOptions): Express {
  const { router, services, logger } = options;
  // A relative server URL: the document is right wherever the server is reached from.
  const openApiDocument = createOpenApiDocument({ version: services.instance.version, serverUrl: '/api' });
  const routes = createRouteTable({
    fixed: ['/healthz', '/readyz', '/metrics', '/api/openapi.json'],
    restTemplates: [
      ...Object.entries(openApiDocument.paths ?? {}).flatMap(([path, item]) =>
        Object.keys(item).map((method) => ({ method, path: `/api${path}` })),
      ),
      ...(options.tetto ? tettoRoutes : []),
    ],
    trpcProcedures: Object.keys(router._def.procedures),
  });
  const metrics = createHttpMetrics(options.registry, routes.label);

  const httpsOnly = options.publicUrl?.startsWith('https://') ?? false;
  const createContext = ({ req, res }: { req: Request; res: Response }): Context => ({
    requestId: requestIdOf(req),
    ip: req.ip,
    userAgent: req.get('user-agent'),
    credential: credentialOf(req),
    sessionCookie: sessionCookieFor(req, res, httpsOnly),
    idempotencyKey: req.get('idempotency-key'),
    responseHeaders: {},
    responseStatus: {},
    services,
  });
  const responseMeta = ({ errors, ctx }: { errors: TRPCError[]; ctx?: Context | undefined }) => {
    const [first] = errors;
    if (!first) return { status: ctx?.responseStatus.code, headers: ctx?.responseHeaders ?? {} };
    const error = toAppError(first);
    // A refusal after the request took its rate-limit point still says what is left of the allowance.
    return { status: error.status, headers: { ...ctx?.responseHeaders, ...error.headers } };
  };
  const onError = ({ error, req }: { error: TRPCError; req: Request }) => {
    if (toAppError(error).code === 'internal_error')
      req.log.error({ err: error.cause ?? error }, 'procedure failed');
  };

  // The REST adapter (not its Express wrapper, which drops `next`): a path it has no procedure for
  // goes on to `notFound`, which tells a wrong method (405 with Allow) from an unknown path.
  const restHandler = createOpenApiNodeHttpHandler<AppRouter, Request, Response>({
    router,
    createContext,
    responseMeta,
    onError,
    maxBodySize: options.maxBodyBytes,
  });
  const restProcedures: RequestHandler = (req, res, next) => restHandler(req, res, next);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy);
  app.use(requestContext(logger));
  app.use(metrics.middleware);
  app.use(noSniff);
  app.use(['/api', '/trpc'], noStore);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (req, res) => {
    const results = await Promise.all(
      options.readiness.map(async ({ name, check }) => {
        try {
          await answersWithin(check(), readinessTimeoutMs, name);
          return [name, 'ok'] as const;
        } catch (err) {
          req.log.warn({ err, check: name }, 'readiness check failed');
          return [name, 'unavailable'] as const;
        }
      }),
    );
    const ready = results.every(([, state]) => state === 'ok');
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(results) });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get('/api/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  app.use(
    '/docs',
    pageHeaders(),
    swaggerUi.serve,
    swaggerUi.setup(undefined, { swaggerUrl: '/api/openapi.json', customSiteTitle: 'TDK API' }),
  );

  app.use('/admin', adminApp(options.adminDistDir));
  app.use(['/trpc', '/api'], csrfGuard);
  app.use(
    '/trpc',
    createExpressMiddleware({
      router,
      createContext,
      responseMeta,
      onError,
      maxBodySize: options.maxBodyBytes,
      maxBatchSize: trpcMaxBatchSize,
    }),
  );
  // Before the REST adapter, which answers 404 for every /api path it does not know.
  app.get(callEventsPath.replace('{id}', ':id'), callEvents(router, createContext));
  if (options.tetto) {
    const perIp = services.limiter({
      keyPrefix: 'tetto_ip',
      points: options.tettoRequestsPerMinute,
      duration: 60,
    });
    const { marketplace, store } = options.tetto;
    app.use(tettoEndpoints(marketplace, services.chain, store, options.maxBodyBytes, perIp));
  }
  // Stripe signs the exact bytes it sends, so this one route reads the raw body.
  app.post(
    '/api/tdk/webhooks/stripe',
    express.raw({ type: () => true, limit: options.maxBodyBytes }),
    async (req, res) => {
      const outcome = await handleStripeWebhook(services, {
        rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        signature: req.get('stripe-signature'),
        ip: req.ip,
        userAgent: req.get('user-agent'),
      });
      res.json({ received: true, outcome });
    },
  );
  app.use(
    '/api',
    express.json({ limit: options.maxBodyBytes }),
    storableJson,
    bodylessPostsAsJson,
    unreservedPathDecoded,
    documentedRestErrors,
    restProcedures,
  );

  // Last: what no route answered, or only for other methods.
  app.use(notFound(routes.methodsAt));
  app.use(errorHandler);
  return app;
}
