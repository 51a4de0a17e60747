/**
 * Maintenance: one bounded `tick()` that does a page of work and reports whether more is left.
 * Called by the scheduled function (scheduled.ts, ticks until near its timeout), by the dev
 * server's timer and by `sluice maintenance run`. A tick, in order:
 *  1. topic deletion: one bounded step over the deleted-topic markers (topic-deletion.ts);
 *  2. partitions: the head and hint of the next `partitionsPerTick` partitions in one
 *     BatchGetItem; a pass (partition-pass.ts) only where `needsPass` says so, until the
 *     tick's merge budget is spent. A cursor walks all partitions of all topics over ticks;
 *  3. garbage collection: one page of the bucket sweep (gc.ts).
 *
 * Finding work costs no scan of entries: an idle partition costs 1/50 of a BatchGetItem per
 * tick, plus its topic's share of one byKind Query (the topic list) per pass.
 * Two ticks at once (two functions, the timer and the CLI) are safe: every write is
 * conditional (merges on old pointers, summaries on their version, the sweep cursor on its
 * version, deletions are idempotent); they only repeat work. No lease is needed.
 */
import { MAINTENANCE_DEFAULTS, type MaintenanceSettings } from '../config.ts';
import type { Clock, IdGenerator, Logger } from '../deps.ts';
import type { TopicPartition, TopicRecord } from '../model/topic.ts';
import type { PartitionIndex } from '../log/partition-index.ts';
import type { TimeIndexStamper } from '../log/time-index-stamper.ts';
import type { IndexStore } from '../storage/index-store.ts';
import type { MaintenanceStore, SweepState, SweepUpdate } from '../storage/maintenance-store.ts';
import type { SegmentStore } from '../storage/segment-store.ts';
import type { TopicStore } from '../storage/topic-store.ts';
import { gcStep, HOT_SWEEP_START, hotGcStep, type GcReport, type HotSweepState } from './gc.ts';
import { maintainPartition, needsPass, type PassReport } from './partition-pass.ts';
import type { TopicDeletion, TopicDeletionReport } from './topic-deletion.ts';
import type { DsStreams } from '../ds/streams.ts';
import type { StreamSweepPlan } from '../ds/sweep-plan.ts';

export interface MaintenanceDeps {
  readonly topics: Pick<TopicStore, 'list' | 'get'>;
  readonly index: IndexStore;
  readonly segments: SegmentStore;
  readonly partitions: PartitionIndex;
  readonly stamper: Pick<TimeIndexStamper, 'stamp'>;
  readonly store: MaintenanceStore;
  readonly deletion: Pick<TopicDeletion, 'step' | 'markers'>;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  /** Durable Streams' clean-up (lib/ds/sweep-plan.ts); absent, streams are not swept. */
  readonly streams?: Pick<DsStreams, 'sweep'> | undefined;
}

export interface TickScope {
  /** Decide and report, write nothing. */
  readonly dryRun?: boolean;
  /** Only this topic's partitions and deletion markers; no garbage collection (objects are shared). */
  readonly topic?: string;
}

export interface TickReport {
  readonly deletion: TopicDeletionReport | undefined;
  /** Partitions looked at this tick (state read) and the passes done. */
  readonly checked: number;
  readonly passes: readonly PassReport[];
  readonly gc: GcReport | undefined;
  /** What the Durable Streams sweep removed or corrected (or, dry, would); undefined when it did not run. */
  readonly streams?: StreamSweepPlan | undefined;
  /** Work is known to be left: call tick again (a pass over all partitions is not finished). */
  readonly more: boolean;
  /** This tick changed something (or, dry: would). */
  readonly didWork: boolean;
}

/** A partition on the pass's list, with its topic's config (retention reads it). */
interface PartitionOfTopic {
  readonly tp: TopicPartition;
  readonly name: string;
  /** The topic's version when the list was read (a changed config needs a pass). */
  readonly version: number;
}

/** A dry run sweeps everything, as if no sweep had ever run. */
const EMPTY_SWEEP: SweepState = { cursor: undefined, startedAt: 0, since: 0, sweptAt: 0, dirtyAt: 0, lastDirtyAt: 0, version: 0 };
/** Pages of the hot tier listed per tick: it holds minutes of objects, so one or two pages are usual. */
const HOT_GC_MAX_PAGES = 10;
/** A new sweep of the hot tier starts at most this often (per process). */
const HOT_GC_INTERVAL_MS = 60_000;
/**
 * Durable Streams are swept at most this often (per process): one byKind query and a topic
 * list. Expiry is enforced on access anyway; the sweep only reclaims what nobody reads.
 */
export const STREAM_SWEEP_INTERVAL_MS = 15 * 60_000;

export class Maintenance {
  readonly settings: MaintenanceSettings;
  /** Partitions of the pass in progress, and the next one to look at. */
  private cursor: { readonly scope: string; readonly tps: readonly PartitionOfTopic[]; at: number } | undefined;
  /** A dry run's own sweep state: it never moves the shared cursor. */
  private drySweep: SweepState = EMPTY_SWEEP;
  /** The hot tier's sweep (a continuation token lives only as long as this process). */
  private hotSweep: HotSweepState = HOT_SWEEP_START;
  private dryHotSweep: HotSweepState = HOT_SWEEP_START;
  private streamsSweptAt = -Infinity;

  constructor(
    private readonly deps: MaintenanceDeps,
    settings: Partial<MaintenanceSettings> = {},
  ) {
    this.settings = { ...MAINTENANCE_DEFAULTS, ...settings };
  }

  async tick(scope: TickScope = {}): Promise<TickReport> {
    const dryRun = scope.dryRun ?? false;
    const deletion = await this.deletionStep(scope);

    const key = `${dryRun}:${scope.topic ?? ''}`;
    if (this.cursor === undefined || this.cursor.scope !== key || this.cursor.at >= this.cursor.tps.length) {
      this.cursor = { scope: key, tps: await this.partitionsOf(scope.topic), at: 0 };
    }
    const cursor = this.cursor;
    const pageOf = cursor.tps.slice(cursor.at, cursor.at + this.settings.partitionsPerTick);
    const page = pageOf.map((p) => p.tp);
    // Eventually consistent: half the read cost of an idle partition; a write it misses is seen next tick.
    const states = page.length > 0 ? await this.deps.index.readStates(page, 8, false) : [];
    const passes: PassReport[] = [];
    let merged = 0;
    let checked = 0;
    // The config a pass applies is read fresh (strongly consistent), once per topic and tick:
    // the pass list is a snapshot of an eventually consistent index, kept across ticks, and
    // retention must never apply a retention.ms the user has since raised.
    const fresh = new Map<string, Promise<TopicRecord | undefined>>();
    const configOf = async (p: PartitionOfTopic) => {
      if (!fresh.has(p.name)) fresh.set(p.name, this.deps.topics.get(p.name));
      const topic = await fresh.get(p.name)!;
      return topic?.topicId === p.tp.topicId ? { ...topic.config, version: topic.version } : undefined;
    };
    for (let i = 0; i < page.length; i++) {
      checked++;
      const state = states[i]!;
      if (!needsPass(state, this.deps.clock.now(), pageOf[i]!.version)) continue;
      const config = await configOf(pageOf[i]!);
      if (config === undefined) continue; // deleted (or re-created) since the list was read
      const pass = await maintainPartition(this.passDeps(), this.passOptions(), page[i]!, state.hint.maintenance, config, dryRun);
      passes.push(pass);
      merged += pass.merges.reduce((n, m) => n + (m.kind === 'merged' ? m.bytes : 0), 0);
      if (merged >= this.settings.mergeBytesPerTick) break;
    }
    cursor.at += checked;

    const gc = scope.topic === undefined ? await this.gcStep(dryRun) : undefined;
    const streams = scope.topic === undefined ? await this.streamStep(dryRun) : undefined;
    const passMore = passes.some((p) => p.more) && !dryRun;
    const more = cursor.at < cursor.tps.length || passMore || (deletion?.more ?? false) || (gc?.more ?? false);
    const didWork =
      passes.some((p) => p.planned.length > 0 || p.merges.some((m) => m.kind === 'merged') || (p.compaction?.removed ?? 0) > 0 || (p.retention?.cleared ?? 0) > 0) ||
      (deletion?.topics.some((t) => t.itemsDeleted > 0 || t.offsetsDeleted > 0 || t.finished) ?? false) ||
      (gc?.deleted.length ?? 0) > 0 ||
      (streams !== undefined && streams.expire.length + streams.orphanTopics.length + streams.forkCounts.length > 0);
    return { deletion, checked, passes, gc, streams, more: dryRun ? cursor.at < cursor.tps.length || (gc?.more ?? false) : more, didWork };
  }

  /**
   * Ticks until a whole pass finds nothing left to do (or, dry, until one pass has looked at
   * everything), at most `maxTicks` ticks and `maxPasses` passes; `until` stops early (a
   * deadline). The CLI and the dev timer run until idle; the scheduled function one pass.
   */
  async runUntilIdle(
    scope: TickScope = {},
    opts: { maxTicks?: number; maxPasses?: number; until?: () => boolean; onTick?: (r: TickReport) => void } = {},
  ): Promise<TickReport[]> {
    const reports: TickReport[] = [];
    const maxTicks = opts.maxTicks ?? 10_000;
    let passes = 0;
    let workInPass = false;
    while (reports.length < maxTicks && !(opts.until?.() ?? false)) {
      const r = await this.tick(scope);
      reports.push(r);
      opts.onTick?.(r);
      workInPass ||= r.didWork;
      if (r.more) continue;
      // A pass ended: done when it found nothing (dry: after one pass, nothing changes).
      if (!workInPass || scope.dryRun || ++passes >= (opts.maxPasses ?? Infinity)) break;
      workInPass = false;
    }
    return reports;
  }

  private async deletionStep(scope: TickScope): Promise<TopicDeletionReport | undefined> {
    const dryRun = scope.dryRun ?? false;
    const beforeEntriesDeleted = () => this.markDirty();
    if (scope.topic === undefined) return this.deps.deletion.step({ dryRun, beforeEntriesDeleted });
    const markers = (await this.deps.deletion.markers()).filter((m) => m.name === scope.topic);
    if (markers.length === 0) return undefined;
    // One marker per step (the oldest first): a name deleted twice is finished over ticks.
    return this.deps.deletion.step({ dryRun, topicId: markers[0]!.topicId, beforeEntriesDeleted });
  }

  /**
   * Entries are about to move or go: their old objects may become garbage, and the next full
   * sweep must look at them. Marked BEFORE the change, so a crash right after it still leaves
   * the mark (a sweep acts on a mark only once it is gcSettleMs old, long after the change).
   */
  private markDirty(): Promise<void> {
    return this.deps.store.markDirty(this.deps.clock.now());
  }

  private async partitionsOf(topic: string | undefined): Promise<PartitionOfTopic[]> {
    const topics = (await this.deps.topics.list()).filter((t) => topic === undefined || t.name === topic);
    return topics.flatMap((t) =>
      Array.from({ length: t.partitions }, (_, partition) => ({ tp: { topicId: t.topicId, partition }, name: t.name, version: t.version })),
    );
  }

  private async streamStep(dryRun: boolean): Promise<StreamSweepPlan | undefined> {
    if (this.deps.streams === undefined) return undefined;
    const now = this.deps.clock.now();
    if (!dryRun && now - this.streamsSweptAt < STREAM_SWEEP_INTERVAL_MS) return undefined;
    if (!dryRun) this.streamsSweptAt = now;
    return this.deps.streams.sweep(this.settings.gcGraceMs, dryRun);
  }

  private async gcStep(dryRun: boolean): Promise<GcReport> {
    const store = dryRun
      ? {
          sweep: async () => this.drySweep,
          saveSweep: async (prev: SweepState, next: SweepUpdate) => {
            this.drySweep = { ...next, dirtyAt: 0, lastDirtyAt: 0, version: prev.version + 1 };
            return true;
          },
          markDirty: async () => undefined,
        }
      : this.deps.store;
    const report = await gcStep(
      { segments: this.deps.segments, index: this.deps.index, store, clock: this.deps.clock },
      {
        graceMs: this.settings.gcGraceMs,
        sweepIntervalMs: this.settings.gcSweepIntervalMs,
        orphanSweepIntervalMs: this.settings.gcOrphanSweepIntervalMs,
        settleMs: this.settings.gcSettleMs,
        pageSize: this.settings.gcPageSize,
        checkConcurrency: this.settings.gcCheckConcurrency,
      },
      dryRun,
    );
    if (dryRun && !report.more) this.drySweep = EMPTY_SWEEP;
    if (!this.deps.segments.hasHotTier) return report;
    const hot = await hotGcStep(
      { segments: this.deps.segments, index: this.deps.index, clock: this.deps.clock },
      {
        graceMs: this.settings.gcGraceMs,
        pageSize: this.settings.gcPageSize,
        checkConcurrency: this.settings.gcCheckConcurrency,
        maxPages: HOT_GC_MAX_PAGES,
        intervalMs: HOT_GC_INTERVAL_MS,
      },
      dryRun ? this.dryHotSweep : this.hotSweep,
      dryRun,
    );
    if (dryRun) this.dryHotSweep = hot.state;
    else this.hotSweep = hot.state;
    // The hot sweep's `more` asks for no tick at once: the next scheduled tick goes on with it.
    return {
      ...report,
      listed: report.listed + hot.listed,
      deleted: [...report.deleted, ...hot.deleted],
      bytesFreed: report.bytesFreed + hot.bytesFreed,
      waiting: report.waiting + hot.waiting,
    };
  }

  private passDeps() {
    const d = this.deps;
    const markDirty = () => this.markDirty();
    return {
      index: d.index,
      segments: d.segments,
      partitions: d.partitions,
      stamper: d.stamper,
      clock: d.clock,
      ids: d.ids,
      beforeRepoint: markDirty,
      retention: { index: d.index, clock: d.clock, beforeClear: markDirty },
      compaction: { index: d.index, segments: d.segments, clock: d.clock, ids: d.ids, beforeRewrite: markDirty },
    };
  }

  private passOptions() {
    const s = this.settings;
    return {
      minAgeMs: s.mergeMinAgeMs,
      targetBytes: s.segmentTargetBytes,
      maxRunsPerPass: s.maxRunsPerPass,
      maxWindowEntries: s.maxWindowEntries,
      stampLimit: s.stampLimit,
      gcGraceMs: s.gcGraceMs,
      readConcurrency: s.readConcurrency,
      compaction: { maxKeys: s.compactionMaxKeys, mergeMinAgeMs: s.mergeMinAgeMs, gcGraceMs: s.gcGraceMs },
    };
  }
}
