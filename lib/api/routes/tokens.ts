/** Token routes (API.md "Tokens and ACLs"): admin only (route-acl.ts); parse, call lib/auth, serialise. */
import { Hono } from 'hono';
import type { TokenService } from '../../auth/tokens.ts';
import { LIMITS } from '../../limits.ts';
import { createTokenBody } from '../../wire/schemas.ts';
import { parseWith, readJsonBody } from '../validation.ts';

export function tokenRoutes(tokens: TokenService): Hono {
  const app = new Hono();

  app.post('/', async (c) => {
    const body = parseWith(createTokenBody, await readJsonBody(c, LIMITS.maxRequestBytes));
    return c.json(await tokens.create(body.name, body.allow), 201);
  });

  app.get('/', async (c) => c.json({ tokens: await tokens.list() }));

  app.delete('/:name', async (c) => {
    await tokens.revoke(c.req.param('name'));
    return c.body(null, 204);
  });

  return app;
}
