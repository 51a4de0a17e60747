import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { findOrphanSegments } from '../../lib/maintenance/orphans.ts';
import { createServices } from '../../lib/services.ts';
import { listSegmentObjects } from '../../lib/storage/segment-listing.ts';
import { call, uniqueName } from '../support/http.ts';
import { stackDeps } from '../support/stack.ts';

describe('orphaned segment objects', () => {
  it('finds the object of a produce that crashed before publishing, and not a committed one', async () => {
    const deps = stackDeps();
    const services = createServices(deps);
    const app = createApp(deps, services);
    const topic = uniqueName();
    await call(app, 'POST', '/v1/topics', { name: topic, partitions: 1 });

    const written: string[] = [];
    let crash = false;
    deps.clients.s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutObjectCommand') written.push((args.input as { Key: string }).Key);
        return next(args);
      },
      { step: 'initialize', name: 'capture-put' },
    );
    deps.clients.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        if (crash && context.commandName === 'UpdateItemCommand') throw Object.assign(new Error('crash'), { name: 'Crash' });
        return next(args);
      },
      { step: 'initialize', name: 'crash-before-reserve' },
    );

    expect((await call(app, 'POST', `/v1/topics/${topic}/records`, { records: [{ value: 'kept' }] })).status).toBe(200);
    crash = true;
    expect((await call(app, 'POST', `/v1/topics/${topic}/records`, { records: [{ value: 'lost' }] })).status).toBe(500);
    crash = false;
    const [committed, orphan] = written;

    // Grace 0 and a clock in the future: both objects are "old"; only the orphan is unreferenced.
    const later = { now: () => Date.now() + 1000 };
    const mine = (await findOrphanSegments(listSegmentObjects(deps.clients, deps.names.bucket), services.index, later, 0))
      .map((o) => o.key)
      .filter((k) => k === committed || k === orphan);
    expect(mine).toEqual([orphan]);
    // Within the grace period nothing is reported.
    const young = await findOrphanSegments(listSegmentObjects(deps.clients, deps.names.bucket), services.index, later, 60_000);
    expect(young.map((o) => o.key)).not.toContain(orphan);
  });
});
