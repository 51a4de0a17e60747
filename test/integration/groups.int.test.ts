import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { keyAttributes } from '../../lib/storage/attributes.ts';
import { groupKey } from '../../lib/storage/keys/group.ts';
import { call, uniqueName } from '../support/http.ts';
import { registerGroupScenarios } from '../support/scenarios/groups.ts';
import { stackDeps } from '../support/stack.ts';

describe('consumer groups on the emulator stack', () => registerGroupScenarios(() => stackDeps()));

describe('offsets whose group item is gone', () => {
  it('are described as an Empty group, as DELETE sees them, and DELETE removes them', async () => {
    const deps = stackDeps();
    const app = createApp(deps);
    const t = uniqueName('gt');
    expect((await call(app, 'POST', '/v1/topics', { name: t, partitions: 1 })).status).toBe(201);
    const g = uniqueName('g');
    expect((await call(app, 'POST', `/v1/groups/${g}/offsets`, { offsets: [{ topic: t, partition: 0, offset: 0 }] })).status).toBe(200);
    // What a DELETE cut short between the group item and its offsets leaves behind.
    await deps.clients.dynamo.send(new DeleteItemCommand({ TableName: deps.names.tables.meta, Key: keyAttributes(groupKey(g)) }));

    expect((await call(app, 'GET', `/v1/groups/${g}`)).body).toMatchObject({ group: g, state: 'Empty', members: [] });
    expect((await call(app, 'DELETE', `/v1/groups/${g}`)).status).toBe(204);
    expect((await call(app, 'GET', `/v1/groups/${g}`)).status).toBe(404);
  });
});
