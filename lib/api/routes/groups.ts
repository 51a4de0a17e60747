/** Consumer group routes (API.md "Consumer groups"): parse, call lib/groups, serialise. */
import { Hono } from 'hono';
import type { GroupService } from '../../groups/groups.ts';
import { LIMITS } from '../../limits.ts';
import { commitBody, heartbeatBody, resetBody } from '../../wire/schemas.ts';
import { parseWith, readJsonBody } from '../validation.ts';
import { commitRequirements, permits, requireAll } from '../auth.ts';

export function groupRoutes(groups: GroupService): Hono {
  const app = new Hono();

  // Only the groups the token may use are listed (all of them when auth is off).
  app.get('/', async (c) => {
    const { groups: all } = await groups.list();
    return c.json({ groups: all.filter((g) => permits(c, { kind: 'group', group: g.group })) });
  });

  app.get('/:group', async (c) => c.json(await groups.describe(c.req.param('group'))));

  app.delete('/:group', async (c) => {
    await groups.delete(c.req.param('group'));
    return c.body(null, 204);
  });

  app.post('/:group/heartbeat', async (c) => {
    const body = parseWith(heartbeatBody, await readJsonBody(c, LIMITS.maxRequestBytes));
    const answer = await groups.heartbeat(c.req.param('group'), {
      memberId: body.memberId ?? null,
      memberEpoch: body.memberEpoch,
      topics: body.topics ?? undefined,
      sessionTimeoutMs: body.sessionTimeoutMs ?? undefined,
      ownedPartitions: body.ownedPartitions ?? undefined,
    });
    return c.json(answer);
  });

  app.post('/:group/offsets', async (c) => {
    const body = parseWith(commitBody, await readJsonBody(c, LIMITS.maxRequestBytes));
    requireAll(c, commitRequirements(c.req.param('group'), body.offsets));
    await groups.commitOffsets(c.req.param('group'), {
      memberId: body.memberId ?? null,
      memberEpoch: body.memberEpoch,
      offsets: body.offsets.map((o) => ({ ...o, metadata: o.metadata ?? undefined })),
    });
    return c.json({});
  });

  // Offsets of topics the token may not describe are left out (Kafka's OffsetFetch filters them too).
  app.get('/:group/offsets', async (c) => {
    const { offsets } = await groups.fetchOffsets(c.req.param('group'));
    return c.json({ offsets: offsets.filter((o) => permits(c, { kind: 'describe', topic: o.topic })) });
  });

  app.post('/:group/offsets/reset', async (c) => {
    const body = parseWith(resetBody, await readJsonBody(c, LIMITS.maxRequestBytes));
    return c.json(await groups.resetOffsets(c.req.param('group'), body.topic, body.to));
  });

  return app;
}
