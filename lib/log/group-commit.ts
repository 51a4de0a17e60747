/**
 * The storage half of a produce (docs/ARCHITECTURE.md, "Write path" and "Group commit"): takes
 * requests that are already validated and encoded, and makes them durable and visible.
 *
 * One flush carries a group of requests (one request when group commit is off, or when only one
 * arrived): ONE segment object PUT holding every request's chunks, and, while that PUT is in
 * flight, ONE reserve UpdateItem per partition for all the group's slots there. Then each
 * publish set (group-plan.ts P4) publishes on its own, all in parallel: a conditional PutItem for
 * a single entry, else one TransactWriteItems (with the request's producer advance and offset
 * commit when it carries them).
 *
 * Grouping: a request that arrives while a group is open (before its flush, which runs at the
 * next turn of the event loop: requests handled in the same turn share it) joins it if it fits:
 * at most `maxRequests` requests, `maxBytes` of batches, and no more than TRANSACTION_ENTRIES
 * plain partitions (the bound of any one transaction of plain entries).
 *
 * Failure rules (W2, W3), per request:
 *  - PUT fails: every request of the group fails; every slot reserved for it is filled with a
 *    hole (best effort; readers fill what we cannot, after the slot timeout).
 *  - A partition's reserve fails: the publish sets with a unit there fail, their other slots
 *    filled with holes; other sets go on.
 *  - A publish set fails (a lost race with a hole filler, a fenced producer, a moved group, a
 *    storage error): its slots are filled with holes and its requests get the error; every other
 *    set's requests are unaffected. A request is thus all or nothing, and a refusal is its own.
 *  - The object of a failed request stays in S3, unreferenced, for garbage collection (W3).
 */
import { encodeSegment, type SegmentChunkInput } from '../codec/segment.ts';
import type { Clock, IdGenerator } from '../deps.ts';
import { ConcurrentChangeError, SlotTakenError, UnavailableError } from '../errors.ts';
import { PUBLISH_DEADLINE_MS } from '../config.ts';
import { noopMetrics, type Metrics } from '../metrics.ts';
import type { TopicPartition } from '../model/topic.ts';
import type { IndexStore, PublishItem, Reservation } from '../storage/index-store.ts';
import type { GroupOffsetCommit, ProducerAdvance, PublishTransaction } from '../storage/publish-transaction.ts';
import type { SegmentStore } from '../storage/segment-store.ts';
import type { CommitSignal } from './commit-signal.ts';
import { planGroup, type GroupPlan } from './group-plan.ts';

/** One partition's encoded records of one request. */
export interface EncodedChunk {
  readonly topicId: string;
  readonly partition: number;
  /** Whole RecordBatch frames. */
  readonly batches: Uint8Array;
  readonly recordCount: number;
  readonly budgetBytes: number;
  readonly minTimestamp: number;
  readonly maxTimestamp: number;
}

/** A request's own publish conditions, built once its offsets are known. */
export interface PublishConditions {
  readonly producer?: ProducerAdvance | undefined;
  readonly commit?: GroupOffsetCommit | undefined;
}

export interface WriteRequest {
  readonly chunks: readonly EncodedChunk[];
  /**
   * Present when the request publishes with conditions of its own (an idempotent producer's
   * sequence, an offset commit); called with the request's reservations, one per chunk.
   */
  readonly conditions?: ((reservations: readonly Reservation[]) => PublishConditions) | undefined;
}

export interface GroupCommitOptions {
  /** Requests one flush carries at most; 1 turns group commit off. */
  readonly maxRequests: number;
  /** Batch bytes one flush carries at most (a single larger request still goes, alone). */
  readonly maxBytes: number;
}

/** TransactWriteItems takes 100 items; a set of plain entries never needs more than this. */
export const TRANSACTION_ENTRIES = 100;

interface Pending {
  readonly request: WriteRequest;
  resolve(reservations: Reservation[]): void;
  reject(err: unknown): void;
}

interface OpenGroup {
  readonly members: Pending[];
  bytes: number;
  readonly plainPartitions: Set<string>;
}

const tpKey = (c: { topicId: string; partition: number }) => `${c.topicId}\u0000${c.partition}`;

export class GroupCommitter {
  private open: OpenGroup | undefined;

  constructor(
    private readonly index: IndexStore,
    private readonly publisher: PublishTransaction,
    private readonly segments: SegmentStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly signal: CommitSignal,
    private readonly options: GroupCommitOptions,
    private readonly metrics: Metrics = noopMetrics,
  ) {}

  /** Resolves with the request's offsets, one reservation per chunk (in chunk order). */
  write(request: WriteRequest): Promise<Reservation[]> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { request, resolve, reject };
      if (this.options.maxRequests <= 1) {
        void this.flush([pending]);
        return;
      }
      const bytes = request.chunks.reduce((n, c) => n + c.batches.byteLength, 0);
      const plain = request.conditions ? [] : request.chunks.map(tpKey);
      if (this.open && !this.fits(this.open, bytes, plain)) this.flushOpen();
      let group = this.open;
      if (!group) {
        const opened: OpenGroup = (group = { members: [], bytes: 0, plainPartitions: new Set() });
        this.open = opened;
        setImmediate(() => {
          if (this.open === opened) this.flushOpen();
        });
      }
      group.members.push(pending);
      group.bytes += bytes;
      for (const tp of plain) group.plainPartitions.add(tp);
      if (group.members.length >= this.options.maxRequests) this.flushOpen();
    });
  }

  private fits(group: OpenGroup, bytes: number, plain: readonly string[]): boolean {
    if (group.members.length >= this.options.maxRequests) return false;
    if (group.bytes + bytes > this.options.maxBytes) return false;
    const added = plain.filter((tp) => !group.plainPartitions.has(tp)).length;
    return group.plainPartitions.size + added <= TRANSACTION_ENTRIES;
  }

  private flushOpen(): void {
    const group = this.open;
    this.open = undefined;
    if (group) void this.flush(group.members);
  }

  /** Never throws: every outcome reaches its request's promise. */
  private async flush(members: readonly Pending[]): Promise<void> {
    try {
      await this.flushGroup(members);
    } catch (err) {
      for (const m of members) m.reject(err); // a bug guard: settled promises ignore this
    }
  }

  private async flushGroup(members: readonly Pending[]): Promise<void> {
    const requests = members.map((m) => m.request);
    const plan = planGroup(
      requests.map((r) => ({ chunks: r.chunks.map((c) => ({ tp: tpKey(c), recordCount: c.recordCount })), alone: r.conditions !== undefined })),
    );
    const segmentChunks: SegmentChunkInput[] = plan.units.map((u) => {
      const chunks = u.members.map((m) => requests[m.request]!.chunks[m.chunk]!);
      return {
        topicId: chunks[0]!.topicId,
        partition: chunks[0]!.partition,
        batches: chunks.length === 1 ? chunks[0]!.batches : Buffer.concat(chunks.map((c) => c.batches)),
        recordCount: u.recordCount,
        minTimestamp: Math.min(...chunks.map((c) => c.minTimestamp)),
        maxTimestamp: Math.max(...chunks.map((c) => c.maxTimestamp)),
      };
    });
    const segment = encodeSegment(segmentChunks);
    // Also the PUT's start, which the publish deadline counts from.
    const now = this.clock.now();

    // The PUT and the reserves run at once: one storage round trip before the publish.
    const [put, reserved] = await Promise.all([
      this.segments.put(this.segments.produceKeyFor(this.ids.newId(), now), segment.bytes).then(
        (key) => ({ key }),
        (err: unknown) => ({ err }),
      ),
      this.reserveUnits(plan, segmentChunks, now),
    ]);
    if ('err' in put) {
      await this.fillHoles(reserved.flatMap((r) => (r && 'slot' in r ? [r] : [])));
      for (const m of members) m.reject(put.err);
      return;
    }
    const object = put.key; // a hedged copy's key when it answered first

    // Each set settles its own requests; allSettled, so one set's trouble never cuts another's short.
    await Promise.allSettled(plan.publishSets.map((set) => this.publishSet(set, plan, requests, members, reserved, segment, object, now)));
  }

  /**
   * Publishes one set and settles its requests. Whatever throws before the publish fills the
   * set's slots with holes and fails its requests; once published, its requests are answered
   * with their offsets whatever follows (the records are visible: failing them would make a
   * client retry write them twice).
   */
  private async publishSet(
    set: GroupPlan['publishSets'][number],
    plan: GroupPlan,
    requests: readonly WriteRequest[],
    members: readonly Pending[],
    reserved: readonly (Reservation | { err: unknown })[],
    segment: ReturnType<typeof encodeSegment>,
    object: string,
    putAt: number,
  ): Promise<void> {
    const reservations = set.units.map((u) => reserved[u]!).filter((r): r is Reservation => 'slot' in r);
    const fail = async (err: unknown): Promise<void> => {
      await this.fillHoles(reservations);
      for (const r of set.requests) members[r]!.reject(err);
    };
    const failedReserve = set.units.map((u) => reserved[u]!).find((r): r is { err: unknown } => 'err' in r);
    if (failedReserve) return fail(failedReserve.err);
    let answers: Map<number, Reservation[]>;
    let entries: PublishItem[];
    try {
      answers = new Map<number, Reservation[]>(set.requests.map((r) => [r, []]));
      for (const u of set.units) {
        const unit = plan.units[u]!;
        const res = reserved[u] as Reservation;
        for (const m of unit.members) {
          const chunk = requests[m.request]!.chunks[m.chunk]!;
          const base = res.base + m.offsetInUnit;
          answers.get(m.request)![m.chunk] = { tp: res.tp, slot: res.slot, base, end: base + chunk.recordCount };
        }
      }
      entries = set.units.map((u) => {
        const loc = segment.chunks[u]!;
        const unit = plan.units[u]!;
        return {
          reservation: reserved[u] as Reservation,
          object,
          position: loc.byteOffset,
          length: loc.byteLength,
          recordCount: loc.recordCount,
          budgetBytes: unit.members.reduce((n, m) => n + requests[m.request]!.chunks[m.chunk]!.budgetBytes, 0),
          minTimestamp: loc.minTimestamp,
          maxTimestamp: loc.maxTimestamp,
        };
      });
      const alone = set.alone ? requests[set.requests[0]!]! : undefined;
      const conditions = alone?.conditions?.(answers.get(set.requests[0]!)!) ?? {};
      // Garbage collection may delete an unreferenced object once it is older than its
      // grace; a publish that late (a paused process) would point entries at a deleted object.
      if (this.clock.now() - putAt > PUBLISH_DEADLINE_MS) {
        throw new UnavailableError(`the request took over ${PUBLISH_DEADLINE_MS / 1000} s between writing its data and publishing it; retry it`);
      }
      // The token makes a retried transaction idempotent; each set is its own transaction.
      await this.publisher.publish({ entries, ...conditions, token: this.ids.newId() }, this.clock.now());
    } catch (err) {
      return fail(this.answerFor(err));
    }
    try {
      for (const entry of entries) {
        this.segments.remember(
          { object, position: entry.position, length: entry.length },
          segment.bytes.subarray(entry.position, entry.position + entry.length),
        );
        this.signal.notify(entry.reservation.tp);
      }
    } finally {
      for (const r of set.requests) members[r]!.resolve(answers.get(r)!);
    }
  }

  /** Per unit, its reservation or the error of its partition's reserve. */
  private async reserveUnits(plan: GroupPlan, chunks: readonly SegmentChunkInput[], now: number): Promise<(Reservation | { err: unknown })[]> {
    const out: (Reservation | { err: unknown })[] = new Array(plan.units.length);
    await Promise.all(
      [...plan.slotsByPartition.values()].map(async (unitIndexes) => {
        const first = chunks[unitIndexes[0]!]!;
        const tp: TopicPartition = { topicId: first.topicId, partition: first.partition };
        try {
          const reservations = await this.index.reserveSlots(tp, unitIndexes.map((u) => plan.units[u]!.recordCount), now);
          unitIndexes.forEach((u, i) => (out[u] = reservations[i]!));
        } catch (err) {
          for (const u of unitIndexes) out[u] = { err };
        }
      }),
    );
    return out;
  }

  private answerFor(err: unknown): unknown {
    // A lost race: the state moved under the check, or a reader declared our slot abandoned.
    if (err instanceof ConcurrentChangeError || err instanceof SlotTakenError) this.metrics.count('CommitConflicts');
    if (err instanceof ConcurrentChangeError) {
      // The producer's sequence or the group moved between our check and the publish (a
      // concurrent retry, a rebalance). Nothing was written; the retry sees why (a duplicate
      // answers its original offsets, a moved group its fencing error).
      return new UnavailableError('the producer or group state changed during the request; retry it', err);
    }
    return err;
  }

  /** Best effort: a slot we cannot fill here is filled by readers after the slot timeout. */
  private async fillHoles(reservations: readonly Reservation[]): Promise<void> {
    const now = this.clock.now();
    await Promise.allSettled(reservations.map((r) => this.index.fillHole(r.tp, r.slot, r.base, r.end, now)));
  }
}
