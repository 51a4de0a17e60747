/**
 * Garbage collection of segment objects (the rule: gc-plan.ts G1-G4). One step lists one page
 * of the bucket from the shared sweep cursor (MaintenanceStore), asks the byObject index about
 * the objects past the grace period, and deletes those no entry references: the old objects of
 * merged entries (a multi-partition object once every partition's chunk has moved), objects of
 * deleted topics, and orphans of crashed producers (W3).
 *
 * Why it is safe:
 *  - Nothing ever starts to reference an object older than the grace: a produce publishes
 *    within its request (far below the grace), a merge only points entries at the object it
 *    just wrote and stops repointing after half the grace (merge.ts). So "unreferenced and old"
 *    stays true once true, and the order check-then-delete cannot race a new reference.
 *  - The byObject index is eventually consistent, but only in the safe direction here: an
 *    entry repointed away may still be listed (the object is kept one more sweep); a reference
 *    written long ago (past the grace) is in it.
 *  - A reader still holding an old pointer finds the object gone and follows the entry's new
 *    pointer (lib/log/entry-chunks.ts).
 * A crash mid-delete leaves some objects behind; the next sweep judges them again.
 *
 * When it sweeps (cost at rest): the bucket is listed page by page (one LIST per 1,000
 * objects), and only objects that may have become garbage get an index Query:
 *  - a full sweep (every object past the grace is checked) once something may have left old
 *    objects unreferenced: a merge moved entries or a topic's entries were deleted (marked
 *    BEFORE the change, so a crash after it cannot lose the mark), at least `settleMs` ago,
 *    at most once per `sweepIntervalMs`. Starting, it clears the mark only if nothing was
 *    marked since it read it, and keeps it for marks younger than `settleMs` (the byObject
 *    index may not show those changes yet);
 *  - otherwise a sweep for new objects only, once per `orphanSweepIntervalMs`: nothing made old
 *    objects unreferenced since the last sweep, so only objects that were within the grace then
 *    (orphans-to-be of crashed producers) are checked.
 * A quiet deployment thus costs one read of the sweep item per step and one LIST per 1,000
 * objects per hour, with no per-object queries.
 */
import type { Clock } from '../deps.ts';
import type { IndexStore } from '../storage/index-store.ts';
import type { MaintenanceStore, SweepUpdate } from '../storage/maintenance-store.ts';
import type { SegmentStore } from '../storage/segment-store.ts';
import { needsReferenceCheck, planGc, type GcCandidate, type GcRules } from './gc-plan.ts';

export interface GcDeps {
  readonly segments: Pick<SegmentStore, 'listPage' | 'deleteObjects' | 'isSegmentKey'>;
  readonly index: Pick<IndexStore, 'isObjectReferenced'>;
  readonly store: Pick<MaintenanceStore, 'sweep' | 'saveSweep' | 'markDirty'>;
  readonly clock: Clock;
}

export interface GcOptions {
  readonly graceMs: number;
  /** A full sweep starts at most this often (and only when something was marked dirty). */
  readonly sweepIntervalMs: number;
  /** A sweep for new objects (orphans) starts this long after the last sweep finished. */
  readonly orphanSweepIntervalMs: number;
  /** A dirty mark is acted on only this long after it was made (index propagation). */
  readonly settleMs: number;
  /** Objects listed per step. */
  readonly pageSize: number;
  /** Index queries in flight at once. */
  readonly checkConcurrency: number;
}

export interface GcReport {
  /** What this step did: nothing due, a page of a full sweep, or of a new-objects sweep. */
  readonly sweep: 'idle' | 'full' | 'new-objects';
  /** Objects listed this step (0: between sweeps). */
  readonly listed: number;
  readonly deleted: readonly string[];
  readonly bytesFreed: number;
  /** Objects kept because they are unreferenced but still within the grace (orphans-to-be). */
  readonly waiting: number;
  /** The sweep in progress has more pages. */
  readonly more: boolean;
}

export async function gcStep(deps: GcDeps, opts: GcOptions, dryRun = false): Promise<GcReport> {
  const now = deps.clock.now();
  const state = await deps.store.sweep();
  let startedAt = state.startedAt;
  let since = state.since;
  let clearDirty: SweepUpdate['clearDirty'];
  if (state.cursor === undefined) {
    const full = state.dirtyAt > 0 && now - state.dirtyAt >= opts.settleMs && now - state.sweptAt >= opts.sweepIntervalMs;
    const orphans = now - state.sweptAt >= opts.orphanSweepIntervalMs;
    if (!full && !orphans) return { sweep: 'idle', listed: 0, deleted: [], bytesFreed: 0, waiting: 0, more: false };
    // Objects older than this were checked by the last sweep (or were past the grace then):
    // only a dirty mark can have made them garbage since.
    since = full || state.startedAt === 0 ? 0 : state.startedAt - opts.graceMs - opts.settleMs;
    startedAt = now;
    // Changes marked within the settle time may not be in the index yet: a later full sweep
    // must cover them, so the mark moves to them instead of going.
    if (full) clearDirty = { seen: state.lastDirtyAt, ...(now - state.lastDirtyAt < opts.settleMs ? { keepFrom: state.lastDirtyAt } : {}) };
  }
  const page = await deps.segments.listPage(state.cursor, opts.pageSize);
  const rules: GcRules = { now, graceMs: opts.graceMs, isSegmentKey: (key) => deps.segments.isSegmentKey(key) };
  const candidates: GcCandidate[] = page.objects.map((o) => ({ ...o, referenced: undefined }));
  // Not checked (G4 keeps them): objects this sweep need not look at, and young ones.
  const toCheck = candidates.map((c, i) => ({ c, i })).filter(({ c }) => c.lastModified >= since && needsReferenceCheck(c, rules));
  await checkReferences(deps.index, candidates, toCheck, opts.checkConcurrency);
  const plan = planGc(candidates, rules);
  const keys = plan.delete.map((o) => o.key);
  let deleted = keys;
  if (!dryRun && keys.length > 0) {
    const out = await deps.segments.deleteObjects(keys);
    const failed = new Set(out.failed);
    deleted = keys.filter((k) => !failed.has(k));
    // Garbage S3 would not delete: the cursor moves past it, so ask a full sweep to come back.
    if (failed.size > 0) await deps.store.markDirty(now);
  }
  const waiting = plan.keep.filter((k) => k.reason === 'too-young').length;
  // Lost to another runner: it moved the cursor; this page was judged the same way twice.
  // (A dry run passes a store of its own, so its sweep never moves the shared cursor.)
  const after = { cursor: page.next, startedAt, since, sweptAt: page.next === undefined ? now : state.sweptAt };
  const saved = await deps.store.saveSweep(state, { ...after, ...(clearDirty !== undefined ? { clearDirty } : {}) });
  // A change was marked while this page was judged: keep its mark (a later full sweep covers
  // it) and move on, so a steady stream of merges never starves the sweep.
  if (!saved && clearDirty !== undefined && (await deps.store.sweep()).version === state.version) await deps.store.saveSweep(state, after);
  const gone = new Set(deleted);
  const bytesFreed = plan.delete.filter((o) => gone.has(o.key)).reduce((n, o) => n + o.size, 0);
  return { sweep: since === 0 ? 'full' : 'new-objects', listed: page.objects.length, deleted, bytesFreed, waiting, more: page.next !== undefined };
}

/** Fills in `referenced` for the candidates listed in `toCheck`, `concurrency` index queries at a time. */
async function checkReferences(
  index: Pick<IndexStore, 'isObjectReferenced'>,
  candidates: GcCandidate[],
  toCheck: readonly { c: GcCandidate; i: number }[],
  concurrency: number,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let k = next++; k < toCheck.length; k = next++) {
      const { c, i } = toCheck[k]!;
      candidates[i] = { ...c, referenced: await index.isObjectReferenced(c.key) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, toCheck.length) }, worker));
}

export interface HotGcDeps {
  readonly segments: Pick<SegmentStore, 'listHotPage' | 'deleteObjects' | 'isSegmentKey'>;
  readonly index: Pick<IndexStore, 'isObjectReferenced'>;
  readonly clock: Clock;
}

export interface HotGcOptions extends Pick<GcOptions, 'graceMs' | 'pageSize' | 'checkConcurrency'> {
  /** Pages listed per step at most. */
  readonly maxPages: number;
}

/** Where a hot-tier sweep is (a continuation token, good within one listing), and when the last one finished. */
export interface HotSweepState {
  readonly token: string | undefined;
  readonly sweptAt: number;
}

export const HOT_SWEEP_START: HotSweepState = { token: undefined, sweptAt: 0 };

export interface HotGcReport extends GcReport {
  readonly state: HotSweepState;
}

/**
 * Garbage collection of the hot tier (the S3 Express directory bucket), by the same rule
 * (G1-G4). The hot tier holds only the minutes of objects that merges have not moved to the
 * Standard bucket yet plus the grace. Directory buckets take no StartAfter and list in no fixed
 * order, so a sweep lists the tier from its start, `maxPages` pages a step, carrying the
 * continuation token from step to step (the caller keeps it: a token is no cursor to store);
 * a new sweep starts at most every `intervalMs`. Every object past the grace is asked about:
 * once a merge moved its entries, it is deleted at its first check. No dirty marks are needed:
 * an old hot object becomes garbage only by being moved or dropped, and each sweep looks at
 * all of them. `more` says the sweep goes on; it does not ask for another tick at once (the
 * next tick continues it).
 */
export async function hotGcStep(
  deps: HotGcDeps,
  opts: HotGcOptions & { readonly intervalMs: number },
  state: HotSweepState,
  dryRun = false,
): Promise<HotGcReport> {
  const now = deps.clock.now();
  if (state.token === undefined && now - state.sweptAt < opts.intervalMs) {
    return { sweep: 'idle', listed: 0, deleted: [], bytesFreed: 0, waiting: 0, more: false, state };
  }
  const rules: GcRules = { now, graceMs: opts.graceMs, isSegmentKey: (key) => deps.segments.isSegmentKey(key) };
  const candidates: GcCandidate[] = [];
  let token = state.token;
  let pages = 0;
  do {
    const page = await deps.segments.listHotPage(token, opts.pageSize);
    candidates.push(...page.objects.map((o) => ({ ...o, referenced: undefined })));
    token = page.next;
  } while (token !== undefined && ++pages < opts.maxPages);
  const toCheck = candidates.map((c, i) => ({ c, i })).filter(({ c }) => needsReferenceCheck(c, rules));
  await checkReferences(deps.index, candidates, toCheck, opts.checkConcurrency);
  const plan = planGc(candidates, rules);
  const keys = plan.delete.map((o) => o.key);
  let deleted = keys;
  if (!dryRun && keys.length > 0) {
    const failed = new Set((await deps.segments.deleteObjects(keys)).failed);
    deleted = keys.filter((k) => !failed.has(k)); // the next sweep judges the rest again
  }
  const gone = new Set(deleted);
  return {
    sweep: 'full',
    listed: candidates.length,
    deleted,
    bytesFreed: plan.delete.filter((o) => gone.has(o.key)).reduce((n, o) => n + o.size, 0),
    waiting: plan.keep.filter((k) => k.reason === 'too-young').length,
    more: token !== undefined,
    state: { token, sweptAt: token === undefined ? now : state.sweptAt },
  };
}
