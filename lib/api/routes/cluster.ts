/** `GET /v1/cluster`: what a client needs to size its requests. */
import { Hono } from 'hono';
import type { Backend } from '../../deps.ts';
import { LIMITS } from '../../limits.ts';
import { SLUICE_VERSION } from '../../version.ts';

export function clusterRoutes(backend: Backend): Hono {
  const app = new Hono();
  app.get('/', (c) =>
    c.json({
      version: SLUICE_VERSION,
      backend,
      limits: { ...LIMITS },
    }),
  );
  return app;
}
