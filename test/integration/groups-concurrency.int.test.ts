/**
 * Many members heartbeating concurrently over real HTTP (the app served by @hono/node-server,
 * as `sluice dev` serves it). After every round of answers no partition is held by two live
 * members; once stable every partition is assigned exactly once and sizes differ by <= 1.
 * The stored group state is checked too: never a partition in two members' assigned ∪ owned.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { tpKey } from '../../lib/groups/assignor.ts';
import { GroupStore } from '../../lib/storage/group-store.ts';
import { uniqueName } from '../support/http.ts';
import { assertExclusive, flatten, type Member } from '../support/scenarios/groups.ts';
import { serveApp, type ServedApp } from '../support/http-server.ts';
import { stackDeps } from '../support/stack.ts';

let served: ServedApp;
let base: string;
let store: GroupStore;

beforeAll(async () => {
  const deps = stackDeps();
  store = new GroupStore(deps.clients, deps.names.tables.meta);
  const app = createApp(deps);
  served = await serveApp(app);
  base = served.base;
});

afterAll(() => served.close());

async function http(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function beat(group: string, m: Member): Promise<void> {
  const res = await http('POST', `/v1/groups/${group}/heartbeat`, {
    memberId: m.memberId,
    memberEpoch: m.memberEpoch,
    topics: m.topics,
    ownedPartitions: m.assignment,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  m.memberId = res.body.memberId;
  m.memberEpoch = res.body.memberEpoch;
  m.assignment = res.body.assignment;
}

/** The stored state: no partition in two members' assigned ∪ owned. */
async function assertStoredExclusive(group: string): Promise<void> {
  const found = await store.get(group);
  if (!found) return;
  const holder = new Map<string, string>();
  for (const m of Object.values(found.state.members)) {
    for (const tp of new Set([...m.assigned, ...m.owned].map(tpKey))) {
      const other = holder.get(tp);
      if (other !== undefined) throw new Error(`stored state: ${tp} held by ${other} and ${m.memberId}`);
      holder.set(tp, m.memberId);
    }
  }
}

async function runGroup(memberCount: number, partitions: number, rounds: number): Promise<Member[]> {
  const topic = uniqueName('gc');
  expect((await http('POST', '/v1/topics', { name: topic, partitions })).status).toBe(201);
  const group = uniqueName('g');
  const members: Member[] = Array.from({ length: memberCount }, () => ({ memberId: null, memberEpoch: 0, assignment: [], topics: [topic] }));
  for (let r = 0; r < rounds; r++) {
    await Promise.all(members.map((m) => beat(group, m)));
    assertExclusive(members);
    await assertStoredExclusive(group);
    const all = members.flatMap((m) => flatten(m.assignment));
    if (all.length === partitions) {
      const sizes = members.map((m) => flatten(m.assignment).length);
      if (Math.max(...sizes) - Math.min(...sizes) <= 1) return members;
    }
  }
  throw new Error(`group of ${memberCount} did not become stable in ${rounds} rounds`);
}

describe('consumer groups under concurrent heartbeats (real HTTP)', () => {
  it.each([2, 5, 12, 20])('%d members converge to an exclusive, balanced, complete assignment', async (n) => {
    const members = await runGroup(n, 24, 12);
    const all = members.flatMap((m) => flatten(m.assignment));
    expect(new Set(all).size).toBe(24);
    expect(all).toHaveLength(24);
  });

  it('survives 50 concurrent heartbeats per round on one group, invariants checked after each round', async () => {
    const members = await runGroup(50, 64, 15);
    const sizes = members.map((m) => flatten(m.assignment).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(64);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('rebalances without ever sharing a partition while members come and go', async () => {
    const topic = uniqueName('gc');
    await http('POST', '/v1/topics', { name: topic, partitions: 12 });
    const group = uniqueName('g');
    const members: Member[] = Array.from({ length: 6 }, () => ({ memberId: null, memberEpoch: 0, assignment: [], topics: [topic] }));
    for (let r = 0; r < 16; r++) {
      if (r === 5) {
        const leaving = members.splice(0, 2);
        await Promise.all(leaving.map((m) => http('POST', `/v1/groups/${group}/heartbeat`, { memberId: m.memberId, memberEpoch: -1 })));
      }
      if (r === 9) members.push(...Array.from({ length: 3 }, () => ({ memberId: null, memberEpoch: 0, assignment: [], topics: [topic] } as Member)));
      await Promise.all(members.map((m) => beat(group, m)));
      assertExclusive(members);
      await assertStoredExclusive(group);
    }
    const sizes = members.map((m) => flatten(m.assignment).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(12);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });
});
