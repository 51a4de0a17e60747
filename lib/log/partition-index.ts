/**
 * A partition's stable prefix as this process knows it: the published, gap-free run of slots
 * from the start, whose end is the high watermark (docs/ARCHITECTURE.md, "Read path"). The rule that computes it
 * is stable-prefix.ts (pure); this module does the reads and writes around it and keeps the
 * per-process cache.
 *
 * Concurrency (one process serving many requests at once):
 *  - The cached prefix of a partition is an immutable snapshot, replaced whole. A view holds
 *    one snapshot, so a reader never mixes two in one answer.
 *  - Refreshes of one partition are single-flight: at most one reads and extends at a time,
 *    and it starts from the latest snapshot, so no two requests ever append the same entries.
 *  - A view reflects everything published before it was asked for: it joins a refresh that
 *    started after it did, or waits for the running one and starts (or joins) the next. So a
 *    record acknowledged before a fetch began is visible to that fetch, and the high
 *    watermark a process reports never decreases.
 *  - The hint item (shared by all processes) only moves forward, to a prefix this process
 *    verified; a hint is judged before it is trusted, and a wrong one is repaired.
 */
import { PAGE_SIZES, PREFIX_CACHE_DEFAULTS, TUNING_DEFAULTS } from '../config.ts';
import type { Clock } from '../deps.ts';
import { noopMetrics, type Metrics } from '../metrics.ts';
import { tpId, type TopicPartition } from '../model/topic.ts';
import type { HeadState, HintState, IndexEntry, IndexStore, PartitionState } from '../storage/index-store.ts';
import {
  HINT_VERSION,
  advance,
  emptySnapshot,
  highWatermark,
  holeEntry,
  judgeHint,
  append,
  stableSlots,
  withMovedEntries,
  type PrefixSnapshot,
} from './stable-prefix.ts';

export interface PartitionIndexOptions {
  /** How long a reserved slot may stay unpublished before readers fill it with a hole. */
  readonly slotTimeoutMs: number;
  /** Minimum time between hint writes from one process for one partition. */
  readonly hintIntervalMs: number;
  /** Entries kept per partition in the process cache. */
  readonly cachedEntries: number;
  /** Partitions kept in the process cache (least recently refreshed dropped first). */
  readonly cachedPartitions: number;
  /** Entries read per Query while walking (DynamoDB pages at 1 MB anyway). */
  readonly pageSize: number;
  /** Pages (and hole fills) one refresh may do; past that the view reports the prefix found so far (stale, safe). */
  readonly maxPagesPerView: number;
}

export const DEFAULT_PARTITION_INDEX_OPTIONS: PartitionIndexOptions = {
  slotTimeoutMs: TUNING_DEFAULTS.slotTimeoutMs,
  pageSize: PAGE_SIZES.prefixWalk,
  ...PREFIX_CACHE_DEFAULTS,
};

/** What a reader may see of one partition right now. */
export interface StableView {
  readonly tp: TopicPartition;
  readonly head: HeadState;
  /** The hint as readers may use it (a distrusted hint is replaced by the verified prefix). */
  readonly hint: HintState;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  /** Slots [0, stableSlots) are published. */
  readonly stableSlots: number;
  /** The cached tail of the prefix: contiguous entries for slots [windowFirstSlot, stableSlots). */
  readonly window: readonly IndexEntry[];
  readonly windowFirstSlot: number;
  /** Base offset of windowFirstSlot (= the high watermark when the window is empty). */
  readonly windowStartOffset: number;
}

/** What this process knows of a partition between requests (replaced whole, never mutated). */
interface Known {
  readonly snapshot: PrefixSnapshot;
  /** The partition's rewrite revision the snapshot was read at (compaction changes entries' records). */
  readonly revision: number;
  /** Last hint write from this process: when, and how far. */
  readonly hintWrittenAt: number;
  readonly hintStable: number;
}

interface Flight {
  readonly ticket: number;
  readonly promise: Promise<StableView>;
}

export class PartitionIndex {
  private readonly known = new Map<string, Known>();
  private readonly flights = new Map<string, Flight>();
  /** Orders view requests and refreshes: a refresh with a higher ticket started later. */
  private tickets = 0;

  constructor(
    private readonly index: IndexStore,
    private readonly clock: Clock,
    private readonly opts: PartitionIndexOptions = DEFAULT_PARTITION_INDEX_OPTIONS,
    private readonly metrics: Metrics = noopMetrics,
  ) {}

  async view(tp: TopicPartition): Promise<StableView> {
    const mine = ++this.tickets;
    const id = tpId(tp);
    for (;;) {
      const flight = this.flights.get(id);
      // Started after this request did: everything published before us is in what it reads.
      if (flight && flight.ticket > mine) return flight.promise;
      if (!flight) return this.startFlight(tp).promise;
      // Started before us: it may have read the partition before our producer's ack. Let it
      // finish (its snapshot is ours to build on), then join or start the next one.
      await flight.promise.catch(() => undefined);
    }
  }

  /**
   * Views of many partitions (describe, lag): heads and hints in batches, then a walk only for
   * partitions whose known prefix or trusted hint does not already reach their last slot.
   */
  async views(tps: readonly TopicPartition[], concurrency = 16): Promise<StableView[]> {
    const states = await this.index.readStates(tps);
    const out = new Array<StableView>(tps.length);
    const walk: number[] = [];
    tps.forEach((tp, i) => {
      const settled = this.settledView(tp, states[i]!);
      if (settled) out[i] = settled;
      else walk.push(i);
    });
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let w = next++; w < walk.length; w = next++) out[walk[w]!] = await this.view(tps[walk[w]!]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, walk.length) }, worker));
    return out;
  }

  /**
   * Entries a reader found moved by maintenance (same slots and offsets, new pointers): the
   * cached snapshot takes them, replaced whole like any snapshot, so later reads follow them.
   */
  repointed(tp: TopicPartition, moved: readonly IndexEntry[]): void {
    const id = tpId(tp);
    const known = this.known.get(id);
    if (known) this.known.set(id, { ...known, snapshot: withMovedEntries(known.snapshot, moved) });
  }

  private startFlight(tp: TopicPartition): Flight {
    const id = tpId(tp);
    const ticket = ++this.tickets;
    const promise = this.refresh(tp).finally(() => {
      if (this.flights.get(id)?.ticket === ticket) this.flights.delete(id);
    });
    const flight = { ticket, promise };
    this.flights.set(id, flight);
    return flight;
  }

  /**
   * A view without any entry read, when one batch-read state already proves the whole prefix:
   * every reserved slot is published per this process's snapshot, or per a hint whose claim
   * matches the head exactly (as many stable slots as reserved, ending at the head's next).
   */
  private settledView(tp: TopicPartition, state: PartitionState): StableView | undefined {
    const head = state.head;
    const hint = usableHint(state.hint);
    const known = this.known.get(tpId(tp));
    if (known && known.revision === state.hint.maintenance.revision && stableSlots(known.snapshot) >= head.slots) return this.toView(tp, head, hint, known.snapshot);
    if (head.slots === 0) return this.toView(tp, head, hint, emptySnapshot());
    if (hint.version >= HINT_VERSION && hint.stable === head.slots && hint.highWatermark === head.next) {
      return this.toView(tp, head, hint, emptySnapshot(hint.stable, hint.highWatermark));
    }
    return undefined;
  }

  /** One refresh: read head and hint, pick a trusted starting point, walk, keep the hint up. */
  private async refresh(tp: TopicPartition): Promise<StableView> {
    const { head, hint } = await this.index.readState(tp);
    // Compaction rewrote entries since this snapshot was read: its entries may hold records
    // that are gone now, so they are dropped; its bounds stay (P2: the prefix it proved is
    // still published, and the high watermark never goes back).
    const cached = this.known.get(tpId(tp));
    const known = cached === undefined ? undefined : currentOf(cached, hint.maintenance.revision);
    // A hint of an older writer is never believed (and is repaired once a prefix is verified).
    const legacy = isLegacy(hint);
    if (!legacy && hint.stable > (known ? stableSlots(known) : 0)) {
      // The hint is ahead of us. Start there only if it holds up: its anchor (slot stable-1) is
      // read as the first entry of the first page, so the check costs no extra request.
      const from = hint.stable - 1;
      const entries = await this.index.entries(tp, from, head.slots, this.opts.pageSize);
      const anchor = entries[0]?.slot === from ? entries[0] : undefined;
      if (judgeHint(hint, head, anchor) === 'trusted') {
        const page = { entries: entries.slice(1), full: entries.length === this.opts.pageSize };
        const snapshot = await this.walk(tp, head, emptySnapshot(hint.stable, hint.highWatermark), page);
        return this.finish(tp, head, hint, snapshot, false);
      }
      return this.finish(tp, head, distrusted(hint), await this.walk(tp, head, known ?? emptySnapshot()), true, hint);
    }
    const usable = legacy ? distrusted(hint) : hint;
    return this.finish(tp, head, usable, await this.walk(tp, head, known ?? emptySnapshot()), legacy, hint);
  }

  /**
   * Extends `start` by up to maxPagesPerView steps (page reads and hole fills). `firstPage`,
   * when given, is an already-read page of the entries right after `start`.
   */
  private async walk(
    tp: TopicPartition,
    head: HeadState,
    start: PrefixSnapshot,
    firstPage?: { entries: readonly IndexEntry[]; full: boolean },
  ): Promise<PrefixSnapshot> {
    let snapshot = start;
    let page = firstPage;
    for (let step = 0; step < this.opts.maxPagesPerView; step++) {
      const from = stableSlots(snapshot);
      if (from >= head.slots) break;
      if (page === undefined) {
        const entries = await this.index.entries(tp, from, head.slots, this.opts.pageSize);
        page = { entries, full: entries.length === this.opts.pageSize };
      }
      const now = this.clock.now();
      const result = advance(snapshot, head, page.entries, page.full, {
        now,
        slotTimeoutMs: this.opts.slotTimeoutMs,
        keepEntries: this.opts.cachedEntries,
      });
      snapshot = result.snapshot;
      const s = result.step;
      if (s.kind === 'complete' || s.kind === 'wait') break;
      if (s.kind === 'more') {
        page = undefined;
        continue;
      }
      // An abandoned slot: exactly one of a late writer and this filler wins the slot.
      if (await this.index.fillHole(tp, s.slot, s.base, s.end, now)) {
        this.metrics.count('HolesFilled');
        snapshot = append(snapshot, [holeEntry(s, now)], this.opts.cachedEntries);
        // The rest of the page is still valid: published entries are immutable.
        page = { entries: page.entries.filter((e) => e.slot > s.slot), full: page.full };
      } else {
        page = undefined; // a late writer won it: read again
      }
    }
    return snapshot;
  }

  /** Publishes the new snapshot to this process and, now and then, to the shared hint. */
  private async finish(
    tp: TopicPartition,
    head: HeadState,
    hint: HintState,
    snapshot: PrefixSnapshot,
    repair: boolean,
    stored: HintState = hint,
  ): Promise<StableView> {
    const id = tpId(tp);
    const cachedPrevious = this.known.get(id);
    const previous = cachedPrevious === undefined ? undefined : { ...cachedPrevious, snapshot: currentOf(cachedPrevious, hint.maintenance.revision) };
    // Never replace a longer prefix with a shorter one (P2: the high watermark never decreases).
    const best = previous && stableSlots(previous.snapshot) > stableSlots(snapshot) ? previous.snapshot : snapshot;
    const stable = stableSlots(best);
    const hwm = highWatermark(best);
    const now = this.clock.now();
    let hintWrittenAt = previous?.hintWrittenAt ?? 0;
    let hintStable = previous?.hintStable ?? 0;
    if (repair && stable > 0) {
      await this.index.repairHint(tp, stored, stable, hwm, HINT_VERSION);
      hintWrittenAt = now;
      hintStable = stable;
    } else if (stable > Math.max(hint.stable, hintStable) && now - hintWrittenAt >= this.opts.hintIntervalMs) {
      await this.index.advanceHint(tp, stable, hwm, HINT_VERSION);
      hintWrittenAt = now;
      hintStable = stable;
    }
    // Map order is insertion order: re-inserting keeps the most recently refreshed last.
    this.known.delete(id);
    this.known.set(id, { snapshot: best, revision: hint.maintenance.revision, hintWrittenAt, hintStable });
    for (const oldest of this.known.keys()) {
      if (this.known.size <= this.opts.cachedPartitions) break;
      this.known.delete(oldest);
    }
    return this.toView(tp, head, hint, best);
  }

  private toView(tp: TopicPartition, head: HeadState, hint: HintState, snapshot: PrefixSnapshot): StableView {
    return {
      tp,
      head,
      hint,
      // A start moved past what this snapshot has seen (a reader behind an unpublished slot):
      // at its high watermark, so nothing below the stored start is ever served.
      logStartOffset: Math.min(hint.logStartOffset, highWatermark(snapshot)),
      highWatermark: highWatermark(snapshot),
      stableSlots: stableSlots(snapshot),
      window: snapshot.entries,
      windowFirstSlot: snapshot.firstSlot,
      windowStartOffset: snapshot.startOffset,
    };
  }
}

/** A cached snapshot at `revision`: itself, or (read at another) its bounds without entries. */
function currentOf(k: Known, revision: number): PrefixSnapshot {
  return k.revision === revision ? k.snapshot : emptySnapshot(stableSlots(k.snapshot), highWatermark(k.snapshot));
}

function isLegacy(hint: HintState): boolean {
  return hint.version < HINT_VERSION && (hint.stable > 0 || hint.highWatermark > 0);
}

function usableHint(hint: HintState): HintState {
  return isLegacy(hint) ? distrusted(hint) : hint;
}

/** What readers may use of a hint that was not believed: nothing of its prefix or stamping. */
function distrusted(hint: HintState): HintState {
  return { ...hint, stable: 0, highWatermark: 0, stamped: 0, runningMaxTs: -1 };
}
