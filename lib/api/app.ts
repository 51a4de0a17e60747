/**
 * The Hono app factory. One app, several adapters (STYLE.md #9): `functions/api` serves it
 * through `hono/aws-lambda`, `sluice dev` through `@hono/node-server`, tests through
 * `app.request()`.
 */
import { Hono } from 'hono';
import type { SluiceDeps } from '../deps.ts';

export function createApp(deps: SluiceDeps): Hono {
  void deps;
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  return app;
}
