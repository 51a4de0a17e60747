/**
 * Consumer group scenarios (API.md "Consumer groups", KIP-848 style), against a real stack.
 * The ownership invariant is checked from the answers members receive: a partition is never
 * in two live members' (assignment ∪ still-owned) at once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../lib/api/app.ts';
import type { RequestTarget } from '../lambda-app.ts';
import { call, uniqueName } from '../http.ts';
import type { AppFactory, DepsProvider } from './index.ts';

type Assignment = { topic: string; partitions: number[] }[];

export interface Member {
  memberId: string | null;
  memberEpoch: number;
  assignment: Assignment;
  topics: string[];
  sessionTimeoutMs?: number;
}

export function flatten(a: Assignment): string[] {
  return a.flatMap((t) => t.partitions.map((p) => `${t.topic}:${p}`)).sort();
}

/** Throws if a partition is held by two members (assignment is what each consumes). */
export function assertExclusive(members: readonly Member[]): void {
  const seen = new Map<string, string>();
  for (const m of members) {
    for (const tp of flatten(m.assignment)) {
      const other = seen.get(tp);
      if (other !== undefined) throw new Error(`partition ${tp} held by ${other} and ${m.memberId}`);
      seen.set(tp, m.memberId ?? '?');
    }
  }
}

export function registerGroupScenarios(getDeps: DepsProvider, makeApp: AppFactory = createApp): void {
  let app: RequestTarget;
  beforeAll(() => {
    app = makeApp(getDeps());
  });

  async function topic(partitions: number): Promise<string> {
    const name = uniqueName('gt');
    expect((await call(app, 'POST', '/v1/topics', { name, partitions })).status).toBe(201);
    return name;
  }

  /** One heartbeat that reports what the member consumes now (its last assignment). */
  async function beat(group: string, m: Member, extra: Record<string, unknown> = {}) {
    const res = await call(app, 'POST', `/v1/groups/${group}/heartbeat`, {
      memberId: m.memberId,
      memberEpoch: m.memberEpoch,
      topics: m.topics,
      ...(m.sessionTimeoutMs ? { sessionTimeoutMs: m.sessionTimeoutMs } : {}),
      ownedPartitions: m.assignment,
      ...extra,
    });
    if (res.status === 200) {
      m.memberId = res.body.memberId;
      m.memberEpoch = res.body.memberEpoch;
      m.assignment = res.body.assignment;
    }
    return res;
  }

  const join = (topics: string[], sessionTimeoutMs?: number): Member => ({ memberId: null, memberEpoch: 0, assignment: [], topics, ...(sessionTimeoutMs ? { sessionTimeoutMs } : {}) });

  async function settle(group: string, members: Member[], rounds = 10): Promise<void> {
    for (let r = 0; r < rounds; r++) {
      for (const m of members) {
        expect((await beat(group, m)).status).toBe(200);
        assertExclusive(members);
      }
    }
  }

  describe('membership and assignment', () => {
    it('a joining member gets an id, an epoch, the heartbeat interval and every partition', async () => {
      const t = await topic(3);
      const g = uniqueName('g');
      const m = join([t]);
      const res = await beat(g, m);
      expect(res.status).toBe(200);
      expect(res.body.memberId).toEqual(expect.any(String));
      expect(res.body.memberEpoch).toBeGreaterThan(0);
      expect(res.body.heartbeatIntervalMs).toBe(5000);
      expect(res.body.assignment).toEqual([{ topic: t, partitions: [0, 1, 2] }]);
    });

    it('keeps the heartbeat interval at most a third of the session', async () => {
      const t = await topic(1);
      const res = await beat(uniqueName('g'), join([t], 3000));
      expect(res.body.heartbeatIntervalMs).toBe(1000);
    });

    it.each([999, 1_800_001, 1.5])('refuses sessionTimeoutMs %d with 400', async (sessionTimeoutMs) => {
      const t = await topic(1);
      const res = await call(app, 'POST', `/v1/groups/${uniqueName('g')}/heartbeat`, { memberId: null, memberEpoch: 0, topics: [t], sessionTimeoutMs });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_REQUEST');
    });

    it('moves partitions to a new member only after the old owner released them', async () => {
      const t = await topic(4);
      const g = uniqueName('g');
      const a = join([t]);
      await beat(g, a);
      expect(flatten(a.assignment)).toHaveLength(4);
      const b = join([t]);
      await beat(g, b);
      // A still owns everything: B must get nothing yet.
      expect(flatten(b.assignment)).toEqual([]);
      assertExclusive([a, b]);
      await beat(g, a); // A is told to revoke two partitions.
      expect(flatten(a.assignment)).toHaveLength(2);
      // A has not yet confirmed (its owned list still has 4) → B must still wait.
      const stillOwned = await call(app, 'POST', `/v1/groups/${g}/heartbeat`, {
        memberId: a.memberId, memberEpoch: a.memberEpoch, ownedPartitions: [{ topic: t, partitions: [0, 1, 2, 3] }],
      });
      expect(stillOwned.status).toBe(200);
      await beat(g, b);
      expect(flatten(b.assignment)).toEqual([]);
      // A reports it released them; now B gets them.
      await beat(g, a);
      await beat(g, b);
      expect(flatten(b.assignment)).toHaveLength(2);
      assertExclusive([a, b]);
      const d = await call(app, 'GET', `/v1/groups/${g}`);
      expect(d.body.state).toBe('Stable');
    });

    it('hands a leaving member\'s partitions over at once, and answers the leave with epoch -1', async () => {
      const t = await topic(4);
      const g = uniqueName('g');
      const a = join([t]);
      const b = join([t]);
      await settle(g, [a, b], 3);
      const leave = await call(app, 'POST', `/v1/groups/${g}/heartbeat`, { memberId: a.memberId, memberEpoch: -1 });
      expect(leave.status).toBe(200);
      expect(leave.body).toMatchObject({ memberEpoch: -1, assignment: [] });
      await beat(g, b);
      expect(flatten(b.assignment)).toHaveLength(4);
    });

    it('fences a wrong epoch with 409 FENCED_MEMBER_EPOCH and an unknown member with 404', async () => {
      const t = await topic(1);
      const g = uniqueName('g');
      const m = join([t]);
      await beat(g, m);
      const fenced = await call(app, 'POST', `/v1/groups/${g}/heartbeat`, { memberId: m.memberId, memberEpoch: m.memberEpoch + 5 });
      expect(fenced.status).toBe(409);
      expect(fenced.body.error.code).toBe('FENCED_MEMBER_EPOCH');
      const unknown = await call(app, 'POST', `/v1/groups/${g}/heartbeat`, { memberId: 'nobody', memberEpoch: 3 });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('UNKNOWN_MEMBER_ID');
    });

    it('adds topics created later and grown partitions to the assignment', async () => {
      const t = await topic(1);
      const later = uniqueName('gt');
      const g = uniqueName('g');
      const m = join([t, later]);
      await beat(g, m);
      expect(flatten(m.assignment)).toEqual([`${t}:0`]);
      await call(app, 'POST', '/v1/topics', { name: later, partitions: 2 });
      await call(app, 'PATCH', `/v1/topics/${t}`, { partitions: 2 });
      await beat(g, m);
      expect(flatten(m.assignment)).toEqual([`${later}:0`, `${later}:1`, `${t}:0`, `${t}:1`].sort());
    });

    it('removes a member that stops heartbeating after its session timeout, not before', async () => {
      const t = await topic(2);
      const g = uniqueName('g');
      const silent = join([t], 1500);
      const active = join([t], 30_000);
      await settle(g, [silent, active], 3);
      const lastSilentBeat = Date.now();
      expect(flatten(active.assignment)).toHaveLength(1);
      // Before the timeout the silent member's partition must not move.
      while (Date.now() - lastSilentBeat < 1000) {
        await beat(g, active);
        expect(flatten(active.assignment)).toHaveLength(1);
        await new Promise((r) => setTimeout(r, 100));
      }
      let movedAt = 0;
      while (Date.now() - lastSilentBeat < 6000) {
        await beat(g, active);
        if (flatten(active.assignment).length === 2) {
          movedAt = Date.now();
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(movedAt - lastSilentBeat).toBeGreaterThanOrEqual(1500);
      const late = await call(app, 'POST', `/v1/groups/${g}/heartbeat`, { memberId: silent.memberId, memberEpoch: silent.memberEpoch });
      expect(late.body.error.code).toBe('UNKNOWN_MEMBER_ID');
    });
  });

  describe('offsets', () => {
    it('commits from a member for its partitions, keeps metadata, and reports lag', async () => {
      const t = await topic(2);
      await call(app, 'POST', `/v1/topics/${t}/records`, { records: [0, 1, 2, 3, 4].map((v) => ({ partition: 0, value: v })) });
      const g = uniqueName('g');
      const m = join([t]);
      await beat(g, m);
      const ok = await call(app, 'POST', `/v1/groups/${g}/offsets`, {
        memberId: m.memberId, memberEpoch: m.memberEpoch, offsets: [{ topic: t, partition: 0, offset: 3, metadata: 'cursor-x' }],
      });
      expect(ok.status).toBe(200);
      const fetched = await call(app, 'GET', `/v1/groups/${g}/offsets`);
      expect(fetched.body.offsets).toEqual([{ topic: t, partition: 0, offset: 3, metadata: 'cursor-x', highWatermark: 5, lag: 2 }]);
    });

    it('rejects stale, newer and unassigned commits with the exact codes, changing nothing', async () => {
      const t = await topic(2);
      const g = uniqueName('g');
      const a = join([t]);
      const b = join([t]);
      await settle(g, [a, b], 3);
      const aPartition = a.assignment[0]!.partitions[0]!;
      const bPartition = b.assignment[0]!.partitions[0]!;
      const commit = (memberEpoch: number, partition: number) =>
        call(app, 'POST', `/v1/groups/${g}/offsets`, { memberId: a.memberId, memberEpoch, offsets: [{ topic: t, partition, offset: 1 }] });
      expect((await commit(a.memberEpoch - 1, aPartition)).body.error.code).toBe('STALE_MEMBER_EPOCH');
      expect((await commit(a.memberEpoch + 1, aPartition)).body.error.code).toBe('FENCED_MEMBER_EPOCH');
      const notMine = await commit(a.memberEpoch, bPartition);
      expect(notMine.status).toBe(409);
      expect(notMine.body.error.code).toBe('FENCED_MEMBER_EPOCH');
      const unknown = await call(app, 'POST', `/v1/groups/${g}/offsets`, { memberId: 'ghost', memberEpoch: 1, offsets: [{ topic: t, partition: 0, offset: 1 }] });
      expect(unknown.body.error.code).toBe('UNKNOWN_MEMBER_ID');
      const admin = await call(app, 'POST', `/v1/groups/${g}/offsets`, { offsets: [{ topic: t, partition: 0, offset: 1 }] });
      expect(admin.status).toBe(409);
      expect(admin.body.error.code).toBe('NON_EMPTY_GROUP');
      expect((await call(app, 'GET', `/v1/groups/${g}/offsets`)).body.offsets).toEqual([]);
    });

    it('allows admin commits and resets only while the group is empty', async () => {
      const t = await topic(1);
      const records = [1000, 2000, 3000].map((timestamp, i) => ({ value: i, timestamp }));
      await call(app, 'POST', `/v1/topics/${t}/records`, { records });
      const g = uniqueName('g');
      const admin = await call(app, 'POST', `/v1/groups/${g}/offsets`, { offsets: [{ topic: t, partition: 0, offset: 1 }] });
      expect(admin.status).toBe(200);
      const offsetOf = async () => (await call(app, 'GET', `/v1/groups/${g}/offsets`)).body.offsets[0].offset;
      expect(await offsetOf()).toBe(1);
      for (const [to, expected] of [['latest', 3], ['earliest', 0], [{ timestamp: 1500 }, 1], [{ offset: 2 }, 2], [{ offset: 99 }, 3]] as const) {
        const res = await call(app, 'POST', `/v1/groups/${g}/offsets/reset`, { topic: t, to });
        expect(res.status).toBe(200);
        expect(await offsetOf()).toBe(expected);
      }
      const m = join([t]);
      await beat(g, m);
      const busy = await call(app, 'POST', `/v1/groups/${g}/offsets/reset`, { topic: t, to: 'earliest' });
      expect(busy.status).toBe(409);
      expect(busy.body.error.code).toBe('NON_EMPTY_GROUP');
    });

    it('answers an unknown group with an empty offset list, as OffsetFetch does', async () => {
      const res = await call(app, 'GET', `/v1/groups/${uniqueName('g')}/offsets`);
      expect(res).toEqual({ status: 200, body: { offsets: [] } });
    });

    it('does not leak committed offsets into a re-created topic of the same name', async () => {
      const t = await topic(1);
      await call(app, 'POST', `/v1/topics/${t}/records`, { records: [{ value: 1 }, { value: 2 }] });
      const g = uniqueName('g');
      await call(app, 'POST', `/v1/groups/${g}/offsets`, { offsets: [{ topic: t, partition: 0, offset: 2 }] });
      await call(app, 'DELETE', `/v1/topics/${t}`);
      await call(app, 'POST', '/v1/topics', { name: t, partitions: 1 });
      expect((await call(app, 'GET', `/v1/groups/${g}/offsets`)).body.offsets).toEqual([]);
    });
  });

  describe('list, describe, delete', () => {
    it('lists and describes groups with state and members, and deletes only empty groups', async () => {
      const t = await topic(2);
      const g = uniqueName('g');
      const m = join([t]);
      await beat(g, m);
      const described = await call(app, 'GET', `/v1/groups/${g}`);
      expect(described.status).toBe(200);
      expect(described.body).toMatchObject({ group: g, state: 'Stable' });
      expect(described.body.members).toEqual([
        expect.objectContaining({ memberId: m.memberId, memberEpoch: m.memberEpoch, topics: [t], assignment: [{ topic: t, partitions: [0, 1] }] }),
      ]);
      const listed = await call(app, 'GET', '/v1/groups');
      expect(listed.body.groups).toContainEqual({ group: g, state: 'Stable', members: 1 });

      const busy = await call(app, 'DELETE', `/v1/groups/${g}`);
      expect(busy.status).toBe(409);
      expect(busy.body.error.code).toBe('NON_EMPTY_GROUP');
      await call(app, 'POST', `/v1/groups/${g}/heartbeat`, { memberId: m.memberId, memberEpoch: -1 });
      expect((await call(app, 'GET', `/v1/groups/${g}`)).body.state).toBe('Empty');
      expect((await call(app, 'DELETE', `/v1/groups/${g}`)).status).toBe(204);
      expect((await call(app, 'GET', `/v1/groups/${g}`)).body.error.code).toBe('GROUP_ID_NOT_FOUND');
      expect((await call(app, 'DELETE', `/v1/groups/${g}`)).status).toBe(404);
    });

    it('lists and describes a group that only has committed offsets as Empty, as Kafka does, until it is deleted', async () => {
      const t = await topic(1);
      await call(app, 'POST', `/v1/topics/${t}/records`, { records: [{ value: 1 }] });
      const g = uniqueName('g');
      expect((await call(app, 'POST', `/v1/groups/${g}/offsets`, { offsets: [{ topic: t, partition: 0, offset: 1 }] })).status).toBe(200);
      expect(await call(app, 'GET', `/v1/groups/${g}`)).toEqual({
        status: 200,
        body: { group: g, state: 'Empty', groupEpoch: 0, assignmentEpoch: 0, members: [] },
      });
      expect((await call(app, 'GET', '/v1/groups')).body.groups).toContainEqual({ group: g, state: 'Empty', members: 0 });

      // Offsets committed by a produce make a group just as visible.
      const viaProduce = uniqueName('g');
      const out = await topic(1);
      const produced = await call(app, 'POST', `/v1/topics/${out}/records`, {
        records: [{ value: 'x' }],
        commitOffsets: { group: viaProduce, offsets: [{ topic: t, partition: 0, offset: 1 }] },
      });
      expect(produced.status).toBe(200);
      expect((await call(app, 'GET', `/v1/groups/${viaProduce}`)).body).toMatchObject({ group: viaProduce, state: 'Empty', members: [] });
      expect((await call(app, 'GET', '/v1/groups')).body.groups).toContainEqual({ group: viaProduce, state: 'Empty', members: 0 });

      // A member can still join such a group, and a second admin commit is refused while it is there.
      const m = join([t]);
      expect((await beat(g, m)).status).toBe(200);
      expect((await call(app, 'GET', `/v1/groups/${g}`)).body.state).toBe('Stable');
      expect((await call(app, 'POST', `/v1/groups/${g}/offsets`, { offsets: [{ topic: t, partition: 0, offset: 0 }] })).body.error.code).toBe('NON_EMPTY_GROUP');
      await call(app, 'POST', `/v1/groups/${g}/heartbeat`, { memberId: m.memberId, memberEpoch: -1 });

      for (const name of [g, viaProduce]) {
        expect((await call(app, 'DELETE', `/v1/groups/${name}`)).status).toBe(204);
        expect((await call(app, 'GET', `/v1/groups/${name}`)).body.error.code).toBe('GROUP_ID_NOT_FOUND');
        expect((await call(app, 'GET', `/v1/groups/${name}/offsets`)).body.offsets).toEqual([]);
      }
      const names = (await call(app, 'GET', '/v1/groups')).body.groups.map((x: { group: string }) => x.group);
      expect(names).not.toContain(g);
      expect(names).not.toContain(viaProduce);
    });
  });
}
