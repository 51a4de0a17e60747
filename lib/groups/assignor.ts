/**
 * Target assignment of a KIP-848 consumer group: uniform and sticky, in the spirit of Kafka's
 * server-side UniformAssignor (the default of `group.consumer.assignors`, KIP-848).
 * Not byte-for-byte Kafka's output; it guarantees the invariants below. No rack awareness.
 *
 * Pure: no I/O, no clock, no randomness. Same input → same output, whatever the
 * order of `members`, of each member's `topics`, of `previous`'s keys and of its lists.
 *
 * Invariants of the result:
 *  1. Completeness and exclusivity: every partition of every existing topic that at least one
 *     member subscribes to is assigned to exactly one member subscribed to that topic.
 *     Partitions of topics nobody subscribes to are unassigned; subscribed topics missing from
 *     `partitionsPerTopic` are ignored. Every member appears, possibly with [].
 *  2. Balance, as a local optimum: no member A holds a partition whose topic member B
 *     subscribes to while count(B) + 1 < count(A). (Moving it would not make things more
 *     even only when the counts already differ by at most one.) With identical subscriptions
 *     every member is eligible for every partition, so this is the global guarantee
 *     max(count) - min(count) <= 1. With different subscriptions it is best effort: a better
 *     balance might need chains of moves, which we do not search for.
 *  3. Stickiness: a partition stays with its previous owner when that owner is still a member,
 *     still subscribes to the topic, and keeping it does not violate (2). With identical
 *     subscriptions the number of moved partitions is the minimum any balanced assignment
 *     needs (the max→min greedy below is optimal; the unit tests check it against the
 *     closed form).
 *
 * Algorithm:
 *  a. Keep every valid previous claim. A partition claimed by several previous owners (a
 *     corrupt input) stays with the lowest memberId; out-of-range partitions are dropped.
 *  b. Hand out the unowned partitions (new partitions, and those of departed or unsubscribed
 *     owners) one at a time to the least-loaded eligible member. Topics with fewer
 *     subscribers go first (most constrained first); within a topic, partitions ascending.
 *  c. While some member can give a partition to an eligible member with count + 1 < its own
 *     count, move ONE partition: the giver is the most loaded such member, the receiver the
 *     least loaded member eligible for one of the giver's partitions, the partition the
 *     giver's first (topic, partition) the receiver can take. Each move lowers
 *     Σ count² by at least 2, so the loop ends.
 * Ties are broken by memberId, then (topic, partition). Strings compare by UTF-16 code units
 * (not localeCompare, whose order depends on the runtime's locale data).
 *
 * Cost, for P partitions and M members: O(P log M) for (a) and (b). Each move of (c) costs
 * O(M + topics per member) with identical subscriptions (O(M × topics) at worst with
 * different ones) plus a scan of one topic's owners. 100 members × 1000 partitions over 20
 * topics take a couple of milliseconds, also when nearly every partition has to move.
 */
import type { NamedPartition } from '../model/group.ts';

export type { NamedPartition } from '../model/group.ts';

export interface AssignorMember {
  readonly memberId: string;
  readonly topics: readonly string[];
}

export interface AssignorInput {
  readonly members: readonly AssignorMember[];
  /** Partition count of every topic that exists (subscribed topics that don't exist are ignored). */
  readonly partitionsPerTopic: Readonly<Record<string, number>>;
  /** The previous target assignment (memberId → partitions), for stickiness; members may be gone. */
  readonly previous: Readonly<Record<string, readonly NamedPartition[]>>;
}

/**
 * "topic:partition". Unambiguous: the partition is everything after the last ':' (Kafka topic
 * names cannot contain ':' anyway).
 */
export function tpKey(tp: NamedPartition): string {
  return `${tp.topic}:${tp.partition}`;
}

const NO_OWNER = -1;

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** memberId → partitions, each list sorted by (topic, partition); every member present (possibly []). */
export function assignUniformSticky(input: AssignorInput): Record<string, NamedPartition[]> {
  // Members are referred to by their index in memberId order, so index order is tie order.
  const members = [...input.members].sort((a, b) => compareCodeUnits(a.memberId, b.memberId));
  for (let i = 1; i < members.length; i++) {
    if (members[i]!.memberId === members[i - 1]!.memberId) {
      throw new RangeError(`duplicate memberId ${JSON.stringify(members[i]!.memberId)}`);
    }
  }
  const M = members.length;

  // Own properties only: a topic named "constructor" or "__proto__" must not read Object.prototype.
  const partitionCount = (topic: string): number | undefined =>
    Object.hasOwn(input.partitionsPerTopic, topic) ? input.partitionsPerTopic[topic] : undefined;
  for (const [topic, count] of Object.entries(input.partitionsPerTopic)) {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`partition count of ${JSON.stringify(topic)} must be a non-negative integer, got ${count}`);
    }
  }

  // Topics that exist and have at least one subscriber, by name; referred to by index.
  const topicSet = new Set<string>();
  for (const member of members) {
    for (const topic of member.topics) if (partitionCount(topic) !== undefined) topicSet.add(topic);
  }
  const topics = [...topicSet].sort(compareCodeUnits);
  const topicIndex = new Map(topics.map((t, i) => [t, i] as const));
  const T = topics.length;

  const subscribed = new Uint8Array(M * T); // [member * T + topic]
  const memberTopics: number[][] = []; // topic indices, ascending
  const subscribers: number[][] = topics.map(() => []); // member indices, ascending
  for (let m = 0; m < M; m++) {
    const own: number[] = [];
    for (const topic of members[m]!.topics) {
      const t = topicIndex.get(topic);
      if (t === undefined || subscribed[m * T + t] === 1) continue;
      subscribed[m * T + t] = 1;
      own.push(t);
    }
    own.sort((a, b) => a - b);
    memberTopics.push(own);
    for (const t of own) subscribers[t]!.push(m);
  }

  const owner = topics.map((t) => new Int32Array(partitionCount(t)!).fill(NO_OWNER)); // [topic][partition]
  const counts = new Int32Array(M);
  const held = new Int32Array(M * T); // [member * T + topic]: partitions of that topic the member holds
  const give = (m: number, t: number, p: number): void => {
    const topicOwners = owner[t]!;
    const from = topicOwners[p]!;
    if (from !== NO_OWNER) {
      counts[from]!--;
      held[from * T + t]!--;
    }
    topicOwners[p] = m;
    counts[m]!++;
    held[m * T + t]!++;
  };

  // (a) Keep valid previous claims; members in memberId order, so the lowest memberId wins a
  // duplicated claim whatever the order of `previous`.
  for (let m = 0; m < M; m++) {
    const memberId = members[m]!.memberId;
    const previous = Object.hasOwn(input.previous, memberId) ? input.previous[memberId] : undefined;
    if (previous === undefined) continue;
    for (const tp of previous) {
      const t = topicIndex.get(tp.topic);
      if (t === undefined || subscribed[m * T + t] === 0) continue;
      const topicOwners = owner[t]!;
      const p = tp.partition;
      if (!Number.isInteger(p) || p < 0 || p >= topicOwners.length || topicOwners[p] !== NO_OWNER) continue;
      give(m, t, p);
    }
  }

  // (b) Unowned partitions to the least-loaded eligible member, via a min-heap of the topic's
  // subscribers keyed (count, index). Only this topic's subscribers change while it is
  // processed, so the heap stays valid; the top is incremented in place and sifted down.
  const lighter = (a: number, b: number): boolean => counts[a]! < counts[b]! || (counts[a] === counts[b] && a < b);
  const siftDown = (heap: number[], start: number): void => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) return;
      const r = l + 1;
      const c = r < heap.length && lighter(heap[r]!, heap[l]!) ? r : l;
      if (!lighter(heap[c]!, heap[i]!)) return;
      [heap[i], heap[c]] = [heap[c]!, heap[i]!];
      i = c;
    }
  };
  const topicOrder = topics
    .map((_, t) => t)
    .sort((a, b) => subscribers[a]!.length - subscribers[b]!.length || a - b);
  for (const t of topicOrder) {
    const topicOwners = owner[t]!;
    let heap: number[] | undefined;
    for (let p = 0; p < topicOwners.length; p++) {
      if (topicOwners[p] !== NO_OWNER) continue;
      if (heap === undefined) {
        heap = [...subscribers[t]!];
        for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(heap, i);
      }
      give(heap[0]!, t, p);
      siftDown(heap, 0);
    }
  }

  // (c) One move at a time from the most loaded member that can give, to the least loaded
  // member that can take one of its partitions, until no such pair exists (invariant 2).
  // `order` holds the members sorted by (count, index) and is repaired after each move (a
  // count changes by one, so a member shifts past its equal-count neighbours only). The
  // receiver is then the first eligible member from the front, the giver the first member
  // with a move from the back; with identical subscriptions both are found in O(topics).
  const order = Int32Array.from(members, (_, m) => m).sort((a, b) => counts[a]! - counts[b]! || a - b);
  const pos = new Int32Array(M);
  order.forEach((m, i) => (pos[m] = i));
  const swap = (i: number, j: number): void => {
    const a = order[i]!;
    const b = order[j]!;
    order[i] = b;
    order[j] = a;
    pos[b] = i;
    pos[a] = j;
  };
  const repair = (m: number): void => {
    let i = pos[m]!;
    while (i + 1 < M && lighter(order[i + 1]!, m)) swap(i, ++i);
    while (i > 0 && lighter(m, order[i - 1]!)) swap(i, --i);
  };
  // Lowest count among a topic's subscribers, computed lazily once per move.
  const minCount = new Int32Array(T);
  const minStamp = new Int32Array(T).fill(-1);
  const minCountOf = (t: number, stamp: number): number => {
    if (minStamp[t] !== stamp) {
      let i = 0;
      while (subscribed[order[i]! * T + t] === 0) i++; // every topic here has a subscriber
      minCount[t] = counts[order[i]!]!;
      minStamp[t] = stamp;
    }
    return minCount[t]!;
  };
  const canGive = (m: number, stamp: number): boolean =>
    memberTopics[m]!.some((t) => held[m * T + t]! > 0 && minCountOf(t, stamp) + 1 < counts[m]!);
  const canTake = (s: number, from: number): boolean =>
    memberTopics[from]!.some((t) => held[from * T + t]! > 0 && subscribed[s * T + t] === 1);

  for (let stamp = 0; M > 0; stamp++) {
    // Giver: highest count, then lowest memberId. `order` runs (count asc, index asc), so walk
    // the equal-count blocks from the back and each block from its front.
    const floor = counts[order[0]!]!;
    let giver = NO_OWNER;
    for (let hi = M - 1; hi >= 0 && giver === NO_OWNER; ) {
      const c = counts[order[hi]!]!;
      if (c <= floor + 1) break; // nobody at or below this count has anyone to give to
      let lo = hi;
      while (lo > 0 && counts[order[lo - 1]!] === c) lo--;
      for (let i = lo; i <= hi; i++) {
        if (canGive(order[i]!, stamp)) {
          giver = order[i]!;
          break;
        }
      }
      hi = lo - 1;
    }
    if (giver === NO_OWNER) break;

    // Receiver: lowest count, then lowest memberId, among members that can take one of the
    // giver's partitions. The giver was chosen because one with count + 1 < its own exists.
    let receiver = NO_OWNER;
    for (let i = 0; receiver === NO_OWNER; i++) if (canTake(order[i]!, giver)) receiver = order[i]!;
    const t = memberTopics[giver]!.find((t) => held[giver * T + t]! > 0 && subscribed[receiver * T + t] === 1)!;
    give(receiver, t, owner[t]!.indexOf(giver));
    repair(giver);
    repair(receiver);
  }

  const lists: NamedPartition[][] = members.map(() => []);
  for (let t = 0; t < T; t++) {
    const topic = topics[t]!;
    const topicOwners = owner[t]!;
    for (let p = 0; p < topicOwners.length; p++) lists[topicOwners[p]!]!.push({ topic, partition: p });
  }
  // Object.fromEntries defines own properties, so a memberId "__proto__" is an ordinary key.
  return Object.fromEntries(members.map((member, m) => [member.memberId, lists[m]!]));
}
