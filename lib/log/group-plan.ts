/**
 * How one group commit lays out the produce requests it carries (docs/ARCHITECTURE.md, "Group
 * commit"): pure (decide, don't do). The writer (group-commit.ts) then writes ONE segment
 * object, reserves every partition's slots with ONE UpdateItem, and publishes each publish set
 * on its own, all sets in parallel.
 *
 * A request is *plain* when its publish has no conditions of its own (no producer sequence, no
 * offset commit): its chunk of a partition joins that partition's one shared *unit* (one slot,
 * one index entry whose byte range holds the members' batches back to back), so N plain
 * requests to a partition cost one reserve and one entry write between them. A request that
 * carries a producer sequence or an offset commit is *alone*: each of its chunks is a unit of
 * its own, published in its own transaction with its conditions, so its refusal (a fenced
 * producer, a moved group) fails nobody else.
 *
 * Invariants of every plan
 *  P1 Every chunk of every request is in exactly one unit; a unit holds chunks of one partition.
 *  P2 A unit's members are in arrival order and their record ranges tile [0, recordCount).
 *  P3 A unit holding a chunk of an alone request holds nothing else.
 *  P4 Publish sets partition the units and the requests: a request's units are all in its set.
 *     An alone request's set is that request's units only. Plain units are joined into one set
 *     exactly when a plain request spans them (that request is all or nothing, W2), so
 *     unrelated plain requests stay in separate sets (separate failure domains, and a
 *     single-entry set publishes with a plain conditional PutItem: 1 write unit, not 2).
 *  P5 Per partition, units take slots in the arrival order of their first member; units are
 *     laid out in the segment partition by partition in slot order, so a reader of consecutive
 *     slots reads adjacent bytes (one ranged GET).
 */

export interface ShapeChunk {
  /** The partition, as a string key unique across topics. */
  readonly tp: string;
  readonly recordCount: number;
}

export interface RequestShape {
  readonly chunks: readonly ShapeChunk[];
  /** Publishes with conditions of its own (a producer sequence, an offset commit). */
  readonly alone: boolean;
}

export interface UnitMember {
  readonly request: number;
  /** Index into the request's chunks. */
  readonly chunk: number;
  /** The member's first record, counted from the unit's first record. */
  readonly offsetInUnit: number;
}

export interface PlannedUnit {
  readonly tp: string;
  readonly members: readonly UnitMember[];
  readonly recordCount: number;
}

export interface PublishSet {
  /** Unit indexes, ascending. */
  readonly units: readonly number[];
  /** The requests answered by this set, ascending. */
  readonly requests: readonly number[];
  /** True when the set is one alone request's. */
  readonly alone: boolean;
}

export interface GroupPlan {
  /** In segment order (P5). */
  readonly units: readonly PlannedUnit[];
  /** Per partition, its unit indexes in slot order. */
  readonly slotsByPartition: ReadonlyMap<string, readonly number[]>;
  readonly publishSets: readonly PublishSet[];
}

interface DraftUnit {
  readonly tp: string;
  readonly members: UnitMember[];
  recordCount: number;
  /** Arrival index of the unit's first member (slot order). */
  readonly firstRequest: number;
}

export function planGroup(requests: readonly RequestShape[]): GroupPlan {
  const byPartition = new Map<string, { units: DraftUnit[]; plain?: DraftUnit }>();
  requests.forEach((request, r) => {
    request.chunks.forEach((chunk, c) => {
      let partition = byPartition.get(chunk.tp);
      if (!partition) byPartition.set(chunk.tp, (partition = { units: [] }));
      let unit: DraftUnit;
      if (request.alone || !partition.plain) {
        unit = { tp: chunk.tp, members: [], recordCount: 0, firstRequest: r };
        partition.units.push(unit);
        if (!request.alone) partition.plain = unit;
      } else {
        unit = partition.plain;
      }
      unit.members.push({ request: r, chunk: c, offsetInUnit: unit.recordCount });
      unit.recordCount += chunk.recordCount;
    });
  });

  const units: PlannedUnit[] = [];
  const slotsByPartition = new Map<string, number[]>();
  for (const [tp, partition] of byPartition) {
    // Units were created in arrival order of their first member, so this is slot order.
    slotsByPartition.set(tp, partition.units.map((u) => units.push(u) - 1));
  }

  // Union-find over units: a request joins all of its units into one set.
  const parent = units.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const unitsOfRequest = requests.map(() => [] as number[]);
  units.forEach((u, i) => u.members.forEach((m) => unitsOfRequest[m.request]!.push(i)));
  for (const list of unitsOfRequest) for (const i of list.slice(1)) parent[find(i)] = find(list[0]!);

  const sets = new Map<number, { units: number[]; requests: Set<number> }>();
  units.forEach((u, i) => {
    const root = find(i);
    let set = sets.get(root);
    if (!set) sets.set(root, (set = { units: [], requests: new Set() }));
    set.units.push(i);
    for (const m of u.members) set.requests.add(m.request);
  });
  const publishSets: PublishSet[] = [...sets.values()].map((s) => {
    const reqs = [...s.requests].sort((a, b) => a - b);
    return { units: s.units, requests: reqs, alone: requests[reqs[0]!]!.alone };
  });
  return { units, slotsByPartition, publishSets };
}
