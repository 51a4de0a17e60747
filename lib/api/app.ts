/**
 * The Hono app factory. One app, several adapters: `functions/api` serves it
 * through `hono/aws-lambda`, `sluice dev` through `@hono/node-server`, tests through
 * `app.request()`. Routes are split by resource; errors are mapped in error-mapping.ts only.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { consoleLogger, type SluiceDeps } from '../deps.ts';
import { InvalidRequestError, PolicyViolationError } from '../errors.ts';
import { isStreamTopic } from '../ds/streams.ts';
import { noopMetrics } from '../metrics.ts';
import { createServices, type Services } from '../services.ts';
import { authenticate, authorizeRoute } from './auth.ts';
import { logServerError, toHttpError } from './error-mapping.ts';
import { consoleRoutes } from './console.ts';
import { countErrorAnswer, requestLog } from './request-log.ts';
import { assertNoDotSegments, assertPathDecodes, rawPathOf } from './validation.ts';
import { clusterRoutes } from './routes/cluster.ts';
import { groupRoutes } from './routes/groups.ts';
import { recordRoutes } from './routes/records.ts';
import { TUNING_DEFAULTS } from '../config.ts';
import { sseRoutes } from './routes/sse.ts';
import { sseOptionsFrom, type SseOptions } from './sse-events.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { topicRoutes } from './routes/topics.ts';
import { DS_PREFIX, DS_SSE_KEEPALIVE_MS, DS_SSE_MAX_MS, dsRoutes } from './routes/ds.ts';
import { requireAll } from './auth.ts';

/** Kept here too: tests and adapters import it from the app. */
export { bearerToken } from './auth.ts';

export interface AppOptions {
  /** Where the built web console is (lib/api/console.ts); default: the bundle's or the checkout's. */
  readonly consoleDir?: string;
  /** Streaming reads (routes/sse.ts); default: from the log tuning (SLUICE_SSE_MAX_MS, SLUICE_SSE_PING_MS). */
  readonly sse?: SseOptions;
  /**
   * The app runs behind a streaming adapter (functions/stream: hono/aws-lambda `streamHandle`,
   * a Function URL in RESPONSE_STREAM mode), so `live=sse` may answer on Lambda. Off on the
   * buffering API function, which refuses it. Off-Lambda (the dev server) it does not matter.
   */
  readonly streaming?: boolean;
}

/** Writes to a stream's topic through /v1 would bypass its state: refused (reads are fine). */
const guardStreamTopic: MiddlewareHandler = async (c, next) => {
  const topic = c.req.param('topic');
  if (topic !== undefined && isStreamTopic(topic) && c.req.method !== 'GET' && c.req.method !== 'HEAD') {
    throw new PolicyViolationError(`topic '${topic}' backs a Durable Stream: change it through ${DS_PREFIX}`, { topic });
  }
  await next();
};

export function createApp(deps: SluiceDeps, services: Services = createServices(deps), opts: AppOptions = {}): Hono {
  const app = new Hono();

  const logger = deps.logger ?? consoleLogger;
  const metrics = deps.metrics ?? noopMetrics;
  app.onError((err, c) => {
    const { status, body } = toHttpError(err);
    logServerError(logger, err, { method: c.req.method, path: c.req.path });
    countErrorAnswer(metrics, body.error.code);
    return c.json(body, status);
  });
  app.notFound((c) => {
    const err = new InvalidRequestError(`no route for ${c.req.method} ${c.req.path}`);
    const { body } = toHttpError(err);
    countErrorAnswer(metrics, body.error.code);
    return c.json(body, 404);
  });
  // First, so every answer is logged: a refused token's and an unknown route's too.
  app.use('*', requestLog(logger, metrics, deps.clock));
  app.use('*', async (c, next) => {
    const raw = rawPathOf(c);
    if (raw !== undefined) assertNoDotSegments(raw);
    await next();
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  // The web console: public static assets; the page calls /v1 with the user's token.
  app.route('/', consoleRoutes(opts.consoleDir));

  // Tokens and ACLs (docs/API.md "Tokens and ACLs"): on iff a bootstrap admin token is set.
  if (services.authenticator !== undefined) app.use('/v1/*', authenticate(services.authenticator));

  app.use('/v1/*', async (c, next) => {
    assertPathDecodes(c.req.url);
    await next();
  });
  app.use('/v1/*', authorizeRoute());

  // Topics that back Durable Streams (lib/ds) are read-only here: /ds keeps their state.
  app.use('/v1/topics/:topic/*', guardStreamTopic);
  app.use('/v1/topics/:topic', guardStreamTopic);
  app.route('/v1/cluster', clusterRoutes(deps.backend));
  app.route('/v1/topics', topicRoutes(services.topics));
  // Before the fetch route: `?live=sse` streams (docs/API.md "Streaming reads (SSE)"), the rest falls through.
  app.route('/v1', sseRoutes(services.fetch, deps.clock, opts.sse ?? sseOptionsFrom({ ...TUNING_DEFAULTS, ...deps.tuning }), logger, metrics, opts.streaming === true));
  app.route('/v1', recordRoutes(services.produce, services.fetch, services.offsets, services.producers, services.deleteRecords, logger, metrics));
  app.route('/v1/groups', groupRoutes(services.groups));
  app.route('/v1/tokens', tokenRoutes(services.tokens));

  // The Durable Streams protocol (docs/STREAMING.md "Durable Streams"). With tokens on, a
  // stream needs an admin token: stream paths are not topics, so topic ACLs cannot name them.
  if (services.authenticator !== undefined) {
    // CORS preflights carry no credentials: they are answered without a token.
    const dsAuth = authenticate(services.authenticator);
    app.use(`${DS_PREFIX}/*`, async (c, next) => {
      if (c.req.method === 'OPTIONS') return next();
      return dsAuth(c, async () => {
        requireAll(c, [{ kind: 'admin', operation: 'use durable streams', resource: 'cluster' }]);
        await next();
      });
    });
  }
  const sse = opts.sse ?? sseOptionsFrom({ ...TUNING_DEFAULTS, ...deps.tuning });
  app.route(DS_PREFIX, dsRoutes(services.ds, deps.clock, logger, {
    streaming: opts.streaming === true,
    sseMaxMs: Math.min(DS_SSE_MAX_MS, sse.maxDurationMs),
    keepAliveMs: Math.min(DS_SSE_KEEPALIVE_MS, sse.pingIntervalMs),
    random: Math.random,
  }));
  return app;
}
