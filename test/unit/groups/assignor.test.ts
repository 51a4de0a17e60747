import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assignUniformSticky,
  tpKey,
  type AssignorInput,
  type AssignorMember,
  type NamedPartition,
} from '../../../lib/groups/assignor.ts';

type Assignment = Record<string, NamedPartition[]>;

// ---------------------------------------------------------------------------------------------
// Oracles: each checks one invariant from the module's doc comment on plain data.

function subscribedExisting(input: AssignorInput, member: AssignorMember): Set<string> {
  return new Set(member.topics.filter((t) => Object.hasOwn(input.partitionsPerTopic, t)));
}

/**
 * Invariant 1 (completeness, exclusivity, eligibility) plus the output's shape. Problems are
 * collected and asserted once: thousands of `expect` calls per case would dominate the run time.
 */
function expectValidAssignment(input: AssignorInput, out: Assignment): void {
  const ids = input.members.map((m) => m.memberId);
  expect(Object.keys(out).sort()).toEqual([...ids].sort());

  const problems: string[] = [];
  const owners = new Set<string>();
  for (const member of input.members) {
    const list = out[member.memberId]!;
    const eligible = subscribedExisting(input, member);
    list.forEach((p, i) => {
      const key = tpKey(p);
      const prev = list[i - 1];
      if (prev !== undefined && !(prev.topic < p.topic || (prev.topic === p.topic && prev.partition < p.partition))) {
        problems.push(`${member.memberId}: ${key} out of order`);
      }
      if (!eligible.has(p.topic)) problems.push(`${member.memberId} is not subscribed to ${p.topic}`);
      if (!Number.isInteger(p.partition) || p.partition < 0 || p.partition >= input.partitionsPerTopic[p.topic]!) {
        problems.push(`${key} does not exist`);
      }
      if (owners.has(key)) problems.push(`${key} assigned twice`);
      owners.add(key);
    });
  }
  expect(problems).toEqual([]);

  const subscribedTopics = new Set(input.members.flatMap((m) => [...subscribedExisting(input, m)]));
  let expected = 0;
  for (const topic of subscribedTopics) expected += input.partitionsPerTopic[topic]!;
  expect(owners.size).toBe(expected);
}

function countsOf(out: Assignment): number[] {
  return Object.values(out).map((l) => l.length);
}

function spread(out: Assignment): number {
  const counts = countsOf(out);
  return counts.length === 0 ? 0 : Math.max(...counts) - Math.min(...counts);
}

/** Invariant 2: no member could hand one of its partitions to an eligible, less loaded member. */
function localOptimumViolation(input: AssignorInput, out: Assignment): string | undefined {
  for (const a of input.members) {
    const heldTopics = new Set(out[a.memberId]!.map((tp) => tp.topic));
    const countA = out[a.memberId]!.length;
    for (const b of input.members) {
      const countB = out[b.memberId]!.length;
      if (countB + 1 >= countA) continue;
      const shared = [...subscribedExisting(input, b)].find((t) => heldTopics.has(t));
      if (shared !== undefined) return `${a.memberId} (${countA}) could give ${shared} to ${b.memberId} (${countB})`;
    }
  }
  return undefined;
}

function ownerMap(out: Assignment): Map<string, string> {
  const owners = new Map<string, string>();
  for (const [memberId, list] of Object.entries(out)) for (const tp of list) owners.set(tpKey(tp), memberId);
  return owners;
}

/** Partitions present in both assignments whose owner changed: key → [from, to]. */
function movedPartitions(before: Assignment, after: Assignment): Map<string, [string, string]> {
  const previousOwners = ownerMap(before);
  const moved = new Map<string, [string, string]>();
  for (const [key, owner] of ownerMap(after)) {
    const was = previousOwners.get(key);
    if (was !== undefined && was !== owner) moved.set(key, [was, owner]);
  }
  return moved;
}

/**
 * With identical subscriptions, the fewest moves any balanced assignment needs: member i can
 * keep k_i valid previous partitions; the r = T mod M largest keepers get quota ⌈T/M⌉, the rest
 * ⌊T/M⌋, and everything above quota has to move.
 */
function minimalMovesHomogeneous(total: number, kept: number[]): number {
  const members = kept.length;
  const base = Math.floor(total / members);
  const extra = total % members;
  return [...kept]
    .sort((a, b) => b - a)
    .reduce((sum, k, i) => sum + Math.max(0, k - (i < extra ? base + 1 : base)), 0);
}

// ---------------------------------------------------------------------------------------------
// Builders.

function memberId(i: number): string {
  return `m${String(i).padStart(3, '0')}`;
}

/** `total` partitions spread over `topicCount` topics t00, t01, … as evenly as possible. */
function topicsWith(total: number, topicCount: number): Record<string, number> {
  const topics: Record<string, number> = {};
  for (let t = 0; t < topicCount; t++) {
    topics[`t${String(t).padStart(2, '0')}`] = Math.floor(total / topicCount) + (t < total % topicCount ? 1 : 0);
  }
  return topics;
}

function homogeneous(members: number, partitionsPerTopic: Record<string, number>, previous: Assignment = {}): AssignorInput {
  const topics = Object.keys(partitionsPerTopic);
  return {
    members: Array.from({ length: members }, (_, i) => ({ memberId: memberId(i), topics })),
    partitionsPerTopic,
    previous,
  };
}

/** Seeded Fisher–Yates (tests stay reproducible; no Math.random). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed | 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    const j = (s >>> 8) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function shuffledInput(input: AssignorInput, seed: number): AssignorInput {
  return {
    members: shuffled(input.members, seed).map((m, i) => ({ ...m, topics: shuffled(m.topics, seed + i) })),
    partitionsPerTopic: Object.fromEntries(shuffled(Object.entries(input.partitionsPerTopic), seed + 1)),
    previous: Object.fromEntries(
      shuffled(Object.entries(input.previous), seed + 2).map(([id, list], i) => [id, shuffled(list, seed + 3 + i)]),
    ),
  };
}

const tp = (topic: string, partition: number): NamedPartition => ({ topic, partition });

// ---------------------------------------------------------------------------------------------

describe('tpKey', () => {
  it('formats topic:partition', () => {
    expect(tpKey(tp('orders', 0))).toBe('orders:0');
    expect(tpKey(tp('a.b-c_d', 17))).toBe('a.b-c_d:17');
  });
});

describe('assignUniformSticky: basics', () => {
  it('returns {} for an empty group, whatever the previous assignment held', () => {
    expect(assignUniformSticky({ members: [], partitionsPerTopic: { a: 3 }, previous: {} })).toEqual({});
    expect(assignUniformSticky({ members: [], partitionsPerTopic: { a: 3 }, previous: { gone: [tp('a', 0)] } })).toEqual({});
  });

  it('hands out a fresh topic round-robin in memberId order', () => {
    const out = assignUniformSticky({
      members: [{ memberId: 'c', topics: ['t'] }, { memberId: 'a', topics: ['t'] }, { memberId: 'b', topics: ['t'] }],
      partitionsPerTopic: { t: 7 },
      previous: {},
    });
    expect(out).toEqual({
      a: [tp('t', 0), tp('t', 3), tp('t', 6)],
      b: [tp('t', 1), tp('t', 4)],
      c: [tp('t', 2), tp('t', 5)],
    });
  });

  it('leaves topics nobody subscribes to unassigned and ignores subscribed topics that do not exist', () => {
    const input: AssignorInput = {
      members: [
        { memberId: 'a', topics: ['used', 'missing'] },
        { memberId: 'b', topics: ['used'] },
      ],
      partitionsPerTopic: { used: 4, unused: 5 },
      previous: {},
    };
    const out = assignUniformSticky(input);
    expectValidAssignment(input, out);
    expect(Object.values(out).flat().every((p) => p.topic === 'used')).toBe(true);
    expect(countsOf(out)).toEqual([2, 2]);
  });

  it('gives [] to a member with an empty subscription, or one naming only missing topics, without disturbing the rest', () => {
    const input: AssignorInput = {
      members: [
        { memberId: 'a', topics: ['t'] },
        { memberId: 'b', topics: [] },
        { memberId: 'c', topics: ['t'] },
        { memberId: 'd', topics: ['nope'] },
      ],
      partitionsPerTopic: { t: 6 },
      previous: {},
    };
    const out = assignUniformSticky(input);
    expectValidAssignment(input, out);
    expect(out.b).toEqual([]);
    expect(out.d).toEqual([]);
    expect(out.a).toHaveLength(3);
    expect(out.c).toHaveLength(3);
  });

  it('assigns nothing for a topic with 0 partitions', () => {
    const out = assignUniformSticky({ members: [{ memberId: 'a', topics: ['empty'] }], partitionsPerTopic: { empty: 0 }, previous: {} });
    expect(out).toEqual({ a: [] });
  });

  it('tolerates duplicated topics in a subscription', () => {
    const input: AssignorInput = { members: [{ memberId: 'a', topics: ['t', 't', 't'] }], partitionsPerTopic: { t: 2 }, previous: {} };
    expect(assignUniformSticky(input)).toEqual({ a: [tp('t', 0), tp('t', 1)] });
  });

  it('treats prototype property names as ordinary memberIds and topics', () => {
    const input: AssignorInput = {
      members: [
        { memberId: '__proto__', topics: ['constructor', 'toString', '__proto__'] },
        { memberId: 'constructor', topics: ['constructor', 'hasOwnProperty'] },
      ],
      // JSON.parse makes "__proto__" an own key, as a decoded request body would.
      partitionsPerTopic: JSON.parse('{"constructor": 2, "__proto__": 2}') as Record<string, number>,
      previous: JSON.parse('{"__proto__": [{"topic": "__proto__", "partition": 1}]}') as Assignment,
    };
    const out = assignUniformSticky(input);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expectValidAssignment(input, out);
    // toString / hasOwnProperty do not exist as topics: nothing read off Object.prototype.
    expect(Object.values(out).flat().map(tpKey).sort()).toEqual(['__proto__:0', '__proto__:1', 'constructor:0', 'constructor:1']);
    expect(out['__proto__']).toContainEqual(tp('__proto__', 1)); // kept
  });

  it('rejects a duplicated memberId and an invalid partition count', () => {
    expect(() =>
      assignUniformSticky({ members: [{ memberId: 'a', topics: [] }, { memberId: 'a', topics: [] }], partitionsPerTopic: {}, previous: {} }),
    ).toThrow(RangeError);
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => assignUniformSticky({ members: [], partitionsPerTopic: { t: bad }, previous: {} })).toThrow(RangeError);
    }
  });
});

describe('assignUniformSticky: homogeneous balance', () => {
  const memberSizes = [1, 2, 3, 5, 10, 33, 64, 99, 100];
  const partitionSizes = [1, 2, 7, 100, 101, 999, 1000];
  const grid = memberSizes.flatMap((n) => partitionSizes.map((total) => [n, total] as const));

  it.each(grid)('%i members × %i partitions: complete, exclusive, counts differ by at most 1', (n, total) => {
    const input = homogeneous(n, topicsWith(total, Math.min(20, total)));
    const out = assignUniformSticky(input);
    expectValidAssignment(input, out);
    expect(spread(out)).toBeLessThanOrEqual(1);
  });

  it('rebalances 100 members × 1000 partitions × 20 topics when one member held everything', () => {
    const partitions = topicsWith(1000, 20);
    const all = Object.entries(partitions).flatMap(([topic, n]) => Array.from({ length: n }, (_, p) => tp(topic, p)));
    const previous = { [memberId(42)]: all };
    const input = homogeneous(100, partitions, previous);
    const out = assignUniformSticky(input);
    expectValidAssignment(input, out);
    expect(countsOf(out).every((c) => c === 10)).toBe(true);
    expect(out[memberId(42)]).toHaveLength(10);
    expect(movedPartitions(previous, out).size).toBe(990);
  });

  it('property: any sizes up to 100 × 1000 and any valid previous assignment → balanced, moving the minimum', () => {
    const arbitraryCase = fc
      .record({ members: fc.integer({ min: 1, max: 100 }), topics: fc.integer({ min: 1, max: 20 }) })
      .chain(({ members, topics }) =>
        fc.record({
          members: fc.constant(members),
          counts: fc.array(fc.integer({ min: 0, max: 50 }), { minLength: topics, maxLength: topics }),
          // Previous owner of the i-th partition: a current member, a departed one (≥ members), or none (-1).
          previousOwners: fc.array(fc.integer({ min: -1, max: members + 5 }), { minLength: 1000, maxLength: 1000 }),
        }),
      );
    fc.assert(
      fc.property(arbitraryCase, ({ members, counts, previousOwners }) => {
        const partitionsPerTopic = Object.fromEntries(counts.map((c, i) => [`t${i}`, c]));
        const previous: Assignment = {};
        let i = 0;
        for (const [topic, n] of Object.entries(partitionsPerTopic)) {
          for (let p = 0; p < n; p++) {
            const owner = previousOwners[i++]!;
            if (owner >= 0) (previous[memberId(owner)] ??= []).push(tp(topic, p));
          }
        }
        const input = homogeneous(members, partitionsPerTopic, previous);
        const out = assignUniformSticky(input);
        expectValidAssignment(input, out);
        expect(spread(out)).toBeLessThanOrEqual(1);

        const kept = input.members.map((m) => previous[m.memberId]?.length ?? 0);
        const total = counts.reduce((a, b) => a + b, 0);
        // Partitions of departed members have to move anyway; only count the ones that were kept-able.
        const stayed = [...movedPartitions(previous, out).values()].filter(([from]) => Object.hasOwn(out, from));
        expect(stayed.length).toBe(minimalMovesHomogeneous(total, kept));
      }),
      { numRuns: 60 },
    );
  });
});

describe('assignUniformSticky: stickiness', () => {
  const cases = [
    [1, 1], [1, 10], [2, 7], [3, 3], [3, 100], [5, 1000], [10, 4], [10, 999],
    [33, 100], [64, 1000], [99, 1000], [100, 1000],
  ] as const;

  it.each(cases)('adding a member to a balanced group of %i (%i partitions) moves ≤ ⌈T/(n+1)⌉, all to the newcomer', (n, total) => {
    const partitions = topicsWith(total, Math.min(20, total));
    const before = assignUniformSticky(homogeneous(n, partitions));
    // Once sorting before every existing member, once after: ties must not pull partitions elsewhere.
    for (const newcomer of ['a-new', 'z-new']) {
      const input: AssignorInput = {
        members: [...homogeneous(n, partitions).members, { memberId: newcomer, topics: Object.keys(partitions) }],
        partitionsPerTopic: partitions,
        previous: before,
      };
      const after = assignUniformSticky(input);
      expectValidAssignment(input, after);
      expect(spread(after)).toBeLessThanOrEqual(1);
      const moved = movedPartitions(before, after);
      expect(moved.size).toBeLessThanOrEqual(Math.ceil(total / (n + 1)));
      expect(moved.size).toBe(after[newcomer]!.length);
      for (const [, to] of moved.values()) expect(to).toBe(newcomer);
    }
  });

  it.each(cases.filter(([n]) => n > 1))('removing a member from a balanced group of %i (%i partitions) moves only its partitions', (n, total) => {
    const partitions = topicsWith(total, Math.min(20, total));
    const before = assignUniformSticky(homogeneous(n, partitions));
    const leaver = memberId(n >> 1);
    const input: AssignorInput = {
      members: homogeneous(n, partitions).members.filter((m) => m.memberId !== leaver),
      partitionsPerTopic: partitions,
      previous: before,
    };
    const after = assignUniformSticky(input);
    expectValidAssignment(input, after);
    expect(spread(after)).toBeLessThanOrEqual(1);
    const orphaned = new Set(before[leaver]!.map(tpKey));
    const ownersBefore = ownerMap(before);
    const moved = [...ownerMap(after)].filter(([key, owner]) => ownersBefore.get(key) !== owner).map(([key]) => key);
    expect(new Set(moved)).toEqual(orphaned);
  });

  it('keeps old partitions in place when a topic grows and hands out the new ones', () => {
    const before = assignUniformSticky(homogeneous(3, { t: 6 }));
    const input = homogeneous(3, { t: 10 }, before);
    const after = assignUniformSticky(input);
    expectValidAssignment(input, after);
    expect(spread(after)).toBeLessThanOrEqual(1);
    for (const [id, list] of Object.entries(before)) expect(after[id]).toEqual(expect.arrayContaining(list));
    expect(movedPartitions(before, after).size).toBe(0);
  });

  it('drops the partitions of a topic that no longer exists and rebalances what is left', () => {
    const before = assignUniformSticky(homogeneous(2, { a: 4, b: 2 }));
    const input: AssignorInput = { members: homogeneous(2, { a: 4, b: 2 }).members, partitionsPerTopic: { a: 4 }, previous: before };
    const after = assignUniformSticky(input);
    expectValidAssignment(input, after);
    expect(Object.values(after).flat().every((p) => p.topic === 'a')).toBe(true);
    expect(spread(after)).toBeLessThanOrEqual(1);
  });

  it('moves the partitions of a topic a member unsubscribed from, then restores balance', () => {
    const out = assignUniformSticky({
      members: [{ memberId: 'A', topics: ['y'] }, { memberId: 'B', topics: ['x', 'y'] }],
      partitionsPerTopic: { x: 2, y: 2 },
      previous: { A: [tp('x', 0), tp('y', 0)], B: [tp('x', 1), tp('y', 1)] },
    });
    // x0 has to go to B (3 vs 1), so B hands A the one partition A can take.
    expect(out).toEqual({ A: [tp('y', 0), tp('y', 1)], B: [tp('x', 0), tp('x', 1)] });
  });

  it('ignores stale previous entries: departed members, missing topics, out-of-range or malformed partitions', () => {
    const input: AssignorInput = {
      members: [{ memberId: 'a', topics: ['t'] }, { memberId: 'b', topics: ['t'] }],
      partitionsPerTopic: { t: 4 },
      previous: {
        gone: [tp('t', 0)],
        a: [tp('t', 1), tp('t', 9), tp('t', -1), tp('t', 0.5), tp('deleted', 0), tp('t', 1)],
        b: [tp('t', 3)],
      },
    };
    const out = assignUniformSticky(input);
    expectValidAssignment(input, out);
    expect(out.a).toContainEqual(tp('t', 1));
    expect(out.b).toContainEqual(tp('t', 3));
  });

  it('gives a partition claimed by two previous owners to the lowest memberId, whatever the order of previous', () => {
    const members = [{ memberId: 'b', topics: ['t'] }, { memberId: 'a', topics: ['t'] }];
    const one = assignUniformSticky({ members, partitionsPerTopic: { t: 2 }, previous: { b: [tp('t', 0)], a: [tp('t', 0)] } });
    const two = assignUniformSticky({ members, partitionsPerTopic: { t: 2 }, previous: { a: [tp('t', 0)], b: [tp('t', 0)] } });
    expect(one).toEqual({ a: [tp('t', 0)], b: [tp('t', 1)] });
    expect(two).toEqual(one);
  });

  it('is idempotent: feeding the result back as previous changes nothing', () => {
    const input = homogeneous(7, topicsWith(100, 5));
    const first = assignUniformSticky(input);
    expect(assignUniformSticky({ ...input, previous: first })).toEqual(first);
  });
});

// Heterogeneous groups: up to 40 members over up to 8 topics, each subscribing to a random
// subset (plus sometimes a topic that does not exist), with a random previous assignment that
// may name departed members, unsubscribed topics and duplicate claims.
const heterogeneousCase = fc
  .record({ members: fc.integer({ min: 0, max: 40 }), topics: fc.integer({ min: 1, max: 8 }) })
  .chain(({ members, topics }) => {
    const names = [...Array.from({ length: topics }, (_, i) => `t${i}`), 'ghost'];
    return fc.record({
      partitionsPerTopic: fc.tuple(...names.slice(0, -1).map(() => fc.integer({ min: 0, max: 60 }))).map((counts) =>
        Object.fromEntries(counts.map((c, i) => [names[i]!, c])),
      ),
      members: fc.tuple(...Array.from({ length: members }, () => fc.subarray(names))).map((subs) =>
        subs.map((topics, i) => ({ memberId: memberId(i), topics })),
      ),
      previousClaims: fc.array(
        fc.tuple(fc.integer({ min: 0, max: members + 3 }), fc.constantFrom(...names), fc.integer({ min: 0, max: 65 })),
        { maxLength: 300 },
      ),
    });
  })
  .map(({ partitionsPerTopic, members, previousClaims }): AssignorInput => {
    const previous: Assignment = {};
    for (const [owner, topic, partition] of previousClaims) (previous[memberId(owner)] ??= []).push(tp(topic, partition));
    return { members, partitionsPerTopic, previous };
  });

describe('assignUniformSticky: heterogeneous subscriptions', () => {
  it('gives each topic only to its subscribers, a topic with one subscriber entirely to it', () => {
    const input: AssignorInput = {
      members: [{ memberId: 'A', topics: ['x'] }, { memberId: 'B', topics: ['x', 'y'] }, { memberId: 'C', topics: ['z'] }],
      partitionsPerTopic: { x: 4, y: 2, z: 3 },
      previous: {},
    };
    const out = assignUniformSticky(input);
    expectValidAssignment(input, out);
    expect(out.C).toEqual([tp('z', 0), tp('z', 1), tp('z', 2)]);
    expect(out.B!.filter((p) => p.topic === 'y')).toHaveLength(2);
    expect(countsOf(out)).toEqual([3, 3, 3]);
  });

  it('stops at a local optimum: it does not chain moves through a third member', () => {
    // A{x}=3, B{x,y}=2, C{y}=1. Balancing to 2/2/2 would need A→B (x) and B→C (y) at once;
    // no single move qualifies (B: 2 + 1 is not < 3; C: 1 + 1 is not < 2), so nothing moves.
    const input: AssignorInput = {
      members: [{ memberId: 'A', topics: ['x'] }, { memberId: 'B', topics: ['x', 'y'] }, { memberId: 'C', topics: ['y'] }],
      partitionsPerTopic: { x: 3, y: 3 },
      previous: { A: [tp('x', 0), tp('x', 1), tp('x', 2)], B: [tp('y', 0), tp('y', 1)], C: [tp('y', 2)] },
    };
    const out = assignUniformSticky(input);
    expect(out).toEqual(input.previous);
    expect(localOptimumViolation(input, out)).toBeUndefined();
    // From scratch the greedy hand-out reaches the even split.
    expect(countsOf(assignUniformSticky({ ...input, previous: {} }))).toEqual([2, 2, 2]);
  });

  it('rebalances 100 members × 1000 partitions × 20 topics with mixed subscriptions', () => {
    const partitions = topicsWith(1000, 20);
    const names = Object.keys(partitions);
    const members = Array.from({ length: 100 }, (_, i) => ({
      memberId: memberId(i),
      topics: names.filter((_, j) => (i * 7 + j * 3) % 5 !== 0),
    }));
    const all = Object.entries(partitions).flatMap(([topic, n]) => Array.from({ length: n }, (_, p) => tp(topic, p)));
    const input: AssignorInput = { members, partitionsPerTopic: partitions, previous: { [memberId(1)]: all } };
    const out = assignUniformSticky(input);
    expectValidAssignment(input, out);
    expect(localOptimumViolation(input, out)).toBeUndefined();
  });

  it('property: complete, exclusive, eligible, and locally optimal', () => {
    fc.assert(
      fc.property(heterogeneousCase, (input) => {
        const out = assignUniformSticky(input);
        expectValidAssignment(input, out);
        expect(localOptimumViolation(input, out)).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });

  it('property: idempotent — the result fed back as previous is returned unchanged', () => {
    fc.assert(
      fc.property(heterogeneousCase, (input) => {
        const out = assignUniformSticky(input);
        expect(assignUniformSticky({ ...input, previous: out })).toEqual(out);
      }),
      { numRuns: 100 },
    );
  });
});

describe('assignUniformSticky: determinism', () => {
  it('property: same output whatever the order of members, subscriptions, topics and previous', () => {
    fc.assert(
      fc.property(heterogeneousCase, fc.integer(), (input, seed) => {
        expect(assignUniformSticky(shuffledInput(input, seed))).toEqual(assignUniformSticky(input));
      }),
      { numRuns: 100 },
    );
  });

  it('same output for a shuffled 100 × 1000 homogeneous group with churned previous', () => {
    const partitions = topicsWith(1000, 20);
    const before = assignUniformSticky(homogeneous(80, partitions));
    const input = homogeneous(100, partitions, before);
    const expected = assignUniformSticky(input);
    for (const seed of [1, 2, 3]) expect(assignUniformSticky(shuffledInput(input, seed))).toEqual(expected);
  });
});
