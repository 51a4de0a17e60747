/**
 * The Hono app factory. One app, several adapters: `functions/api` serves it
 * through `hono/aws-lambda`, `sluice dev` through `@hono/node-server`, tests through
 * `app.request()`. Routes are split by resource; errors are mapped in error-mapping.ts only.
 */
import { Hono } from 'hono';
import { consoleLogger, type SluiceDeps } from '../deps.ts';
import { InvalidRequestError, UnauthenticatedError } from '../errors.ts';
import { createServices, type Services } from '../services.ts';
import { logServerError, toHttpError } from './error-mapping.ts';
import { assertPathDecodes } from './validation.ts';
import { clusterRoutes } from './routes/cluster.ts';
import { groupRoutes } from './routes/groups.ts';
import { recordRoutes } from './routes/records.ts';
import { topicRoutes } from './routes/topics.ts';

export function createApp(deps: SluiceDeps, services: Services = createServices(deps)): Hono {
  const app = new Hono();

  const logger = deps.logger ?? consoleLogger;
  app.onError((err, c) => {
    const { status, body } = toHttpError(err);
    logServerError(logger, err, { method: c.req.method, path: c.req.path });
    return c.json(body, status);
  });
  app.notFound((c) => {
    const err = new InvalidRequestError(`no route for ${c.req.method} ${c.req.path}`);
    return c.json(toHttpError(err).body, 404);
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  if (deps.authToken !== undefined) {
    const expected = deps.authToken;
    app.use('/v1/*', async (c, next) => {
      if (bearerToken(c.req.header('authorization')) !== expected) throw new UnauthenticatedError();
      await next();
    });
  }

  app.use('/v1/*', async (c, next) => {
    assertPathDecodes(c.req.url);
    await next();
  });

  app.route('/v1/cluster', clusterRoutes(deps.backend));
  app.route('/v1/topics', topicRoutes(services.topics));
  app.route('/v1', recordRoutes(services.produce, services.fetch, services.offsets, services.producers, services.deleteRecords, logger));
  app.route('/v1/groups', groupRoutes(services.groups));
  return app;
}

/**
 * The token of an `Authorization: Bearer <token>` header. The scheme name is
 * case-insensitive (RFC 9110 §11.1: `bearer`, `BEARER` are the same scheme); the token is
 * compared exactly.
 */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^bearer +(\S+) *$/i.exec(header);
  return match ? match[1] : undefined;
}
