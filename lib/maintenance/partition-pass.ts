/**
 * One maintenance pass over one partition: keep its index fresh, merge what is due, and record
 * a summary on the hint item (MaintenanceSummary) that says how far it is done.
 *
 *  1. Index upkeep: a stable view (the walk fills abandoned slots with holes and advances the
 *     shared hint), then time-index stamping of the new stable entries. Read requests never
 *     write the time index; this is where it is written.
 *  2. Merge: the entries after the settled prefix (merge-plan.ts settledPrefixEnd), read
 *     strongly consistent from the index (current pointers, not a cache), are planned and the
 *     runs carried out (merge.ts), at most `maxRunsPerPass` runs. Entries in the hot tier
 *     (S3 Express) are always moved, into the Standard bucket, once older than the minimum age.
 *  3. Summary: settled prefix, stored bytes and distinct objects, how far the pass looked, and
 *     when young entries it left become due. Written conditional on the summary version it
 *     started from; a pass that lost that race after moving entries asks for another look.
 * `needsPass` decides from one batch-read state whether a partition needs a pass at all: an
 * idle partition costs only its share of one BatchGetItem per tick.
 */
import type { Clock } from '../deps.ts';
import type { TopicPartition } from '../model/topic.ts';
import type { IndexEntry, IndexStore, MaintenanceSummary, PartitionState } from '../storage/index-store.ts';
import type { SegmentStore } from '../storage/segment-store.ts';
import type { PartitionIndex } from '../log/partition-index.ts';
import { bytesOf, objectsOf } from '../log/partition-size.ts';
import type { TimeIndexStamper } from '../log/time-index-stamper.ts';
import type { TopicConfig } from '../model/topic.ts';
import { executeMerge, type MergeDeps, type MergeOptions, type MergeOutcome } from './merge.ts';
import { applyRetention, type RetentionDeps, type RetentionReport } from './retention.ts';
import { compactPartition, type CompactionDeps, type CompactionOptions, type CompactionReport } from './compaction.ts';
import { planMerges, settledPrefixEnd, type MergeRules, type MergeRun } from './merge-plan.ts';

/** What retention and compaction need of the topic's config, and the topic version it came with. */
export type RetentionConfig = Pick<TopicConfig, 'cleanup.policy' | 'retention.ms' | 'retention.bytes' | 'min.compaction.lag.ms' | 'max.compaction.lag.ms' | 'delete.retention.ms'> & {
  readonly version: number;
};

export interface PassDeps extends MergeDeps {
  readonly segments: MergeDeps['segments'] & Pick<SegmentStore, 'isHot' | 'hasHotTier'>;
  readonly retention: RetentionDeps;
  readonly compaction: CompactionDeps;
  readonly index: Pick<IndexStore, 'repoint' | 'entries' | 'readState' | 'writeMaintenance' | 'requestMaintenance'>;
  readonly partitions: Pick<PartitionIndex, 'view' | 'repointed'>;
  readonly stamper: Pick<TimeIndexStamper, 'stamp'>;
  readonly clock: Clock;
}

export interface PassOptions extends MergeOptions {
  readonly minAgeMs: number;
  readonly targetBytes: number;
  readonly maxRunsPerPass: number;
  /** Entries after the settled prefix read per pass at most (bounds a pass on a huge backlog). */
  readonly maxWindowEntries: number;
  readonly stampLimit: number;
  readonly compaction: Omit<CompactionOptions, 'targetBytes' | 'readConcurrency'>;
}

export interface PassReport {
  readonly tp: TopicPartition;
  readonly stableSlots: number;
  readonly stamped: number;
  readonly merges: readonly MergeOutcome[];
  /** Runs planned (with dryRun: what it would merge). */
  readonly planned: readonly Pick<MergeRun, 'firstSlot' | 'lastSlot' | 'bytes'>[];
  readonly summary: Omit<MaintenanceSummary, 'version'>;
  /** Work is left that the next tick should do at once (more runs than one pass may do). */
  readonly more: boolean;
  /** What retention did (not on dry runs). */
  readonly retention: RetentionReport | undefined;
  /** What compaction did (not on dry runs). */
  readonly compaction: CompactionReport | undefined;
}

/** Does this partition need a pass now? (From one batch-read head + hint: no entry read.) */
export function needsPass(state: PartitionState, now: number, configVersion: number): boolean {
  const m = state.hint.maintenance;
  if (state.head.slots === 0) return false;
  // A changed config (retention lowered on a quiet partition) is applied by the next pass.
  return state.head.slots > m.through || (m.due > 0 && now >= m.due) || m.configVersion !== configVersion;
}

export async function maintainPartition(
  deps: PassDeps,
  opts: PassOptions,
  tp: TopicPartition,
  basedOn: MaintenanceSummary,
  config: RetentionConfig,
  dryRun = false,
): Promise<PassReport> {
  let retention: RetentionReport | undefined;
  let compaction: CompactionReport | undefined;
  /** The summary after retention's changes (emptied entries taken off it). */
  let start = basedOn;
  let stableSlots: number;
  let stamped: number;
  let window: IndexEntry[];
  let from: number;
  let to: number;
  if (dryRun) {
    // Read-only: no walk (it may fill holes and advance the hint), only the published run of
    // slots after the settled prefix as it stands.
    const { head, hint } = await deps.index.readState(tp);
    from = basedOn.settled;
    const read = await deps.index.entries(tp, from, Math.min(head.slots, from + opts.maxWindowEntries), opts.maxWindowEntries);
    const gap = read.findIndex((e, i) => e.slot !== from + i);
    window = gap < 0 ? read : read.slice(0, gap);
    to = from + window.length;
    stableSlots = to;
    stamped = hint.stamped;
  } else {
    const view = await deps.partitions.view(tp);
    // The summary as this view read it (strongly consistent), not the batch-read copy that
    // said a pass is due: retention acts on it before any version check.
    start = view.hint.maintenance;
    stableSlots = view.stableSlots;
    stamped = (await deps.stamper.stamp(view, opts.stampLimit)).stamped;
    // Retention first: the window below then starts past what it emptied.
    const kept = await applyRetention(deps.retention, tp, view, config, start, false);
    retention = kept.report;
    start = kept.summary;
    // Then compaction, on what retention kept; the window below reads its result.
    const cleaned = await compactPartition(deps.compaction, { ...opts.compaction, targetBytes: opts.targetBytes, readConcurrency: opts.readConcurrency }, tp, view.stableSlots, config, start);
    compaction = cleaned.report;
    start = cleaned.summary;
    from = Math.min(Math.max(start.settled, start.cleared), view.stableSlots);
    to = Math.min(view.stableSlots, from + opts.maxWindowEntries);
    window = await deps.index.entries(tp, from, to, to - from);
  }
  // A fifth of a window: an object that big is settled, so the window always reaches past the
  // few unsettled objects of a partition of tiny entries to its new ones (M6).
  const settleEntries = Math.max(2, Math.floor(opts.maxWindowEntries / 5));
  const rules: MergeRules = { now: deps.clock.now(), minAgeMs: opts.minAgeMs, targetBytes: opts.targetBytes, settleEntries, ...(deps.segments.hasHotTier ? { isHot: (object: string) => deps.segments.isHot(object) } : {}) };
  // Without a hot tier configured (turned off while hot entries remain) hot objects cannot be
  // read: runs touching them wait for the tier to come back, and the rest of the pass goes on.
  const runs = planMerges(window, rules, opts.maxRunsPerPass + 1).filter(
    (run) => deps.segments.hasHotTier || !run.entries.some((p) => deps.segments.isHot(p.from.object)),
  );
  const todo = runs.slice(0, opts.maxRunsPerPass);
  const merges: MergeOutcome[] = [];
  if (!dryRun) {
    const bySlot = new Map(window.map((e) => [e.slot, e]));
    for (const run of todo) {
      const outcome = await executeMerge(deps, opts, tp, run, bySlot);
      merges.push(outcome);
      if (outcome.kind !== 'merged' || outcome.moved.length === 0) continue;
      const at = new Map(run.entries.map((p) => [p.slot, p.position]));
      const moved: IndexEntry[] = [];
      window = window.map((e) => {
        if (!outcome.moved.includes(e.slot)) return e;
        const m = { ...e, object: outcome.object, position: at.get(e.slot)! };
        moved.push(m);
        return m;
      });
      // This process's own cache (the dev server shares it with the API) follows at once.
      deps.partitions.repointed(tp, moved);
    }
  }

  const summary = { ...summarise(start, from, window, to, rules), configVersion: config.version };
  // More right away only when this pass made progress (a pass that merged nothing would find
  // the same next tick); a skipped or partly lost merge is retried after the minimum age.
  const progressed = merges.some((m) => m.kind === 'merged' && m.entries > 0);
  const retentionProgressed = (retention?.cleared ?? 0) > 0 || (retention?.plan?.entries ?? 0) > 0;
  const compacted = (compaction?.removed ?? 0) > 0 || (compaction?.cleaned ?? false);
  // Stamping does at most stampLimit entries a pass: a backlog is worked off tick by tick.
  const stampingLeft = !dryRun && stamped < stableSlots;
  const more =
    (progressed && (runs.length > todo.length || to < stableSlots)) ||
    (retention?.unfinished === true && retentionProgressed) ||
    (compaction?.more === true && compacted) ||
    stampingLeft;
  const retry = merges.some((m) => m.kind === 'skipped' || (m.kind === 'merged' && m.lost > 0));
  if (!dryRun) {
    // Due again: at once (more), after the minimum age (a merge to retry), when young entries
    // mature, or when the oldest kept entry expires (retention by time on a quiet partition).
    const expiry = retention?.nextExpiry ?? 0;
    const candidates = [summary.due, expiry, compaction?.nextDue ?? 0, retry ? rules.now + opts.minAgeMs : 0].filter((t) => t > 0);
    // Unfinished retention without progress (a chunk lost to a merge) tries again after the minimum age.
    if (retention?.unfinished) candidates.push(rules.now + opts.minAgeMs);
    const due = more ? rules.now : candidates.length > 0 ? Math.min(...candidates) : 0;
    const next = { ...summary, due };
    // Lost: another pass, or DeleteRecords, changed the summary since it was read; look again.
    const written = await deps.index.writeMaintenance(tp, start.version, next);
    if (!written) await deps.index.requestMaintenance(tp, rules.now);
  }
  return { tp, stableSlots, stamped, merges, planned: runs.map(({ firstSlot, lastSlot, bytes }) => ({ firstSlot, lastSlot, bytes })), summary, more, retention, compaction };
}

/**
 * The new summary: the settled prefix grows by the window's settled entries (their bytes and
 * objects are added once, and never change again); the rest of the window is the tail.
 */
function summarise(
  prev: MaintenanceSummary,
  from: number,
  window: readonly IndexEntry[],
  through: number,
  rules: MergeRules,
): Omit<MaintenanceSummary, 'version'> {
  const { now, minAgeMs } = rules;
  const settled = window.length === 0 ? from : Math.max(from, settledPrefixEnd(window, rules));
  const sealed = window.filter((e) => e.slot < settled);
  const tail = window.filter((e) => e.slot >= settled);
  const young = tail.filter((e) => !e.hole && now - e.publishedAt < minAgeMs);
  return {
    settled,
    settledBytes: prev.settledBytes + bytesOf(sealed),
    settledSegments: prev.settledSegments + objectsOf(sealed),
    through,
    tailBytes: bytesOf(tail),
    tailSegments: objectsOf(tail),
    due: young.length === 0 ? 0 : young.reduce((m, e) => Math.min(m, e.publishedAt), Infinity) + minAgeMs,
    cleared: prev.cleared,
    configVersion: prev.configVersion,
    compactedTo: prev.compactedTo,
    revision: prev.revision,
  };
}
