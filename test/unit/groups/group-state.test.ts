import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../lib/errors.ts';
import {
  applyHeartbeat,
  emptyGroup,
  expireMembers,
  groupStateName,
  heartbeatIntervalFor,
  type GroupState,
  type HeartbeatRequest,
} from '../../../lib/groups/group-state.ts';

let ids = 0;
const ctx = (now: number, partitionsPerTopic: Record<string, number> = { t: 4 }) => ({
  now,
  newMemberId: () => `m${++ids}`,
  partitionsPerTopic,
});

function hb(state: GroupState, req: HeartbeatRequest, now = 0, topics?: Record<string, number>) {
  return applyHeartbeat(state, req, ctx(now, topics));
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof SluiceError ? err.code : String(err);
  }
  return undefined;
}

const parts = (a: { topic: string; partitions: number[] }[]) => a.flatMap((x) => x.partitions.map((p) => `${x.topic}:${p}`));

describe('group state machine', () => {
  it('joins with a fresh id and the target epoch, taking every partition', () => {
    const { state, response } = hb(emptyGroup('g'), { memberId: null, memberEpoch: 0, topics: ['t'] });
    expect(response.memberEpoch).toBe(state.targetEpoch);
    expect(response.memberEpoch).toBeGreaterThan(0);
    expect(parts(response.assignment)).toEqual(['t:0', 't:1', 't:2', 't:3']);
    expect(groupStateName(state)).toBe('Stable');
  });

  it('requires topics to join', () => {
    expect(codeOf(() => hb(emptyGroup('g'), { memberId: null, memberEpoch: 0 }))).toBe('INVALID_REQUEST');
  });

  it('revokes before it reassigns: the newcomer waits until the owner stops owning', () => {
    let s = emptyGroup('g');
    const a = hb(s, { memberId: null, memberEpoch: 0, topics: ['t'] });
    s = a.state;
    const b = hb(s, { memberId: null, memberEpoch: 0, topics: ['t'] }, 1);
    s = b.state;
    expect(parts(b.response.assignment)).toEqual([]);
    expect(groupStateName(s)).toBe('Reconciling');
    // A still reports owning all four: it is told to keep only its target half.
    const a2 = hb(s, { memberId: a.response.memberId, memberEpoch: a.response.memberEpoch, ownedPartitions: [{ topic: 't', partitions: [0, 1, 2, 3] }] }, 2);
    s = a2.state;
    expect(parts(a2.response.assignment)).toHaveLength(2);
    // B asks again; A has not yet confirmed → still nothing.
    const b2 = hb(s, { memberId: b.response.memberId, memberEpoch: b.response.memberEpoch, ownedPartitions: [] }, 3);
    s = b2.state;
    expect(parts(b2.response.assignment)).toEqual([]);
    // A confirms; then B gets the rest and both are at the target epoch.
    const a3 = hb(s, { memberId: a.response.memberId, memberEpoch: a2.response.memberEpoch, ownedPartitions: a2.response.assignment }, 4);
    s = a3.state;
    const b3 = hb(s, { memberId: b.response.memberId, memberEpoch: b2.response.memberEpoch, ownedPartitions: [] }, 5);
    s = b3.state;
    expect(parts(b3.response.assignment)).toHaveLength(2);
    expect(new Set([...parts(a3.response.assignment), ...parts(b3.response.assignment)]).size).toBe(4);
    expect(groupStateName(s)).toBe('Stable');
  });

  it('bumps the member epoch once revocation is done and accepts the previous epoch if the answer was lost', () => {
    let s = hb(emptyGroup('g'), { memberId: null, memberEpoch: 0, topics: ['t'] }).state;
    const id = Object.keys(s.members)[0]!;
    const first = s.members[id]!.memberEpoch;
    s = hb(s, { memberId: null, memberEpoch: 0, topics: ['t'] }, 1).state; // second member → new target
    // Step 1: told to revoke half; the epoch stays until the member confirms (KIP-848).
    const revoke = hb(s, { memberId: id, memberEpoch: first, ownedPartitions: [{ topic: 't', partitions: [0, 1, 2, 3] }] }, 2);
    expect(revoke.response.memberEpoch).toBe(first);
    expect(parts(revoke.response.assignment)).toHaveLength(2);
    // Step 2: it owns only what it was told → it moves to the target epoch.
    const r = hb(revoke.state, { memberId: id, memberEpoch: first, ownedPartitions: revoke.response.assignment }, 2);
    expect(r.response.memberEpoch).toBeGreaterThan(first);
    // The member never saw that answer and retries with its old epoch, owning a subset: accepted.
    const retry = hb(r.state, { memberId: id, memberEpoch: first, ownedPartitions: [] }, 3);
    expect(retry.response.memberEpoch).toBe(r.response.memberEpoch);
    // Any other epoch is fenced.
    expect(codeOf(() => hb(r.state, { memberId: id, memberEpoch: first - 1 }, 3))).toBe('FENCED_MEMBER_EPOCH');
    expect(codeOf(() => hb(r.state, { memberId: id, memberEpoch: r.response.memberEpoch + 1 }, 3))).toBe('FENCED_MEMBER_EPOCH');
  });

  it('answers an unknown member with UNKNOWN_MEMBER_ID and lets a leave of one pass', () => {
    expect(codeOf(() => hb(emptyGroup('g'), { memberId: 'x', memberEpoch: 3 }))).toBe('UNKNOWN_MEMBER_ID');
    const left = hb(emptyGroup('g'), { memberId: 'x', memberEpoch: -1 });
    expect(left.response).toMatchObject({ memberEpoch: -1, assignment: [] });
  });

  it('expires a member strictly after its session timeout', () => {
    const s = hb(emptyGroup('g'), { memberId: null, memberEpoch: 0, topics: ['t'], sessionTimeoutMs: 1000 }, 0).state;
    expect(Object.keys(expireMembers(s, 1000).members)).toHaveLength(1);
    const after = expireMembers(s, 1001);
    expect(Object.keys(after.members)).toHaveLength(0);
    expect(after.groupEpoch).toBe(s.groupEpoch + 1);
    expect(groupStateName(after)).toBe('Empty');
  });

  it('validates the session timeout range and derives the heartbeat interval', () => {
    expect(codeOf(() => hb(emptyGroup('g'), { memberId: null, memberEpoch: 0, topics: ['t'], sessionTimeoutMs: 999 }))).toBe('INVALID_REQUEST');
    expect(codeOf(() => hb(emptyGroup('g'), { memberId: null, memberEpoch: 0, topics: ['t'], sessionTimeoutMs: 1_800_001 }))).toBe('INVALID_REQUEST');
    expect(heartbeatIntervalFor(45_000)).toBe(5000);
    expect(heartbeatIntervalFor(6000)).toBe(2000);
  });

  it('recomputes the target when a subscribed topic appears or grows', () => {
    let r = hb(emptyGroup('g'), { memberId: null, memberEpoch: 0, topics: ['t', 'u'] }, 0, { t: 1 });
    expect(parts(r.response.assignment)).toEqual(['t:0']);
    const id = r.response.memberId;
    r = hb(r.state, { memberId: id, memberEpoch: r.response.memberEpoch, ownedPartitions: r.response.assignment }, 1, { t: 2, u: 1 });
    expect(parts(r.response.assignment)).toEqual(['t:0', 't:1', 'u:0']);
  });

  it('never gives a partition to two members across random heartbeat orders', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let trial = 0; trial < 30; trial++) {
      let s = emptyGroup('g');
      const views = new Map<string, { epoch: number; assignment: { topic: string; partitions: number[] }[] }>();
      for (let step = 0; step < 60; step++) {
        const now = step;
        const ids = [...views.keys()];
        const roll = rand();
        if (roll < 0.15 || ids.length === 0) {
          const r = hb(s, { memberId: null, memberEpoch: 0, topics: ['t'] }, now, { t: 7 });
          s = r.state;
          views.set(r.response.memberId, { epoch: r.response.memberEpoch, assignment: r.response.assignment });
        } else if (roll < 0.22) {
          const id = ids[Math.floor(rand() * ids.length)]!;
          s = hb(s, { memberId: id, memberEpoch: -1 }, now, { t: 7 }).state;
          views.delete(id);
        } else {
          const id = ids[Math.floor(rand() * ids.length)]!;
          const v = views.get(id)!;
          const r = hb(s, { memberId: id, memberEpoch: v.epoch, ownedPartitions: v.assignment }, now, { t: 7 });
          s = r.state;
          views.set(id, { epoch: r.response.memberEpoch, assignment: r.response.assignment });
        }
        const holders = new Map<string, string>();
        for (const m of Object.values(s.members)) {
          for (const tp of new Set([...m.assigned, ...m.owned].map((x) => `${x.topic}:${x.partition}`))) {
            expect(holders.get(tp), `step ${step}: ${tp}`).toBeUndefined();
            holders.set(tp, m.memberId);
          }
        }
      }
    }
  });
});
