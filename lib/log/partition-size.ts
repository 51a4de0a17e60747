/**
 * A partition's stored size for describe: `sizeBytes` (bytes of its records as stored, i.e.
 * the data entries' lengths) and `segments` (distinct objects its entries reference), so users
 * and tests can see merges. Maintenance records both for the slots it has looked at (the
 * hint's MaintenanceSummary); the entries after that are read here and added. With maintenance
 * running that tail is at most a tick's worth of writes; without it, describe reads every entry.
 * Exact as of the last maintenance pass and the entries read now (a merge that runs between the
 * two may show for one describe with its objects counted on both sides of the boundary).
 */
import { PAGE_SIZES } from '../config.ts';
import type { IndexEntry, IndexStore } from '../storage/index-store.ts';
import type { StableView } from './partition-index.ts';

export interface PartitionSize {
  readonly sizeBytes: number;
  readonly segments: number;
}

export function bytesOf(entries: readonly IndexEntry[]): number {
  return entries.reduce((n, e) => n + (e.hole ? 0 : (e.length ?? 0)), 0);
}

export function objectsOf(entries: readonly IndexEntry[]): number {
  return new Set(entries.filter((e) => !e.hole && e.object !== undefined).map((e) => e.object)).size;
}

/**
 * The tail is read from the index, not from the process's cached window: the window keeps the
 * pointers it read, and a merge since then moved them (the bytes are the same, the objects not).
 */
export async function partitionSize(index: Pick<IndexStore, 'entries'>, view: StableView): Promise<PartitionSize> {
  const m = view.hint.maintenance;
  let bytes = m.settledBytes + m.tailBytes;
  const objects = new Set<string>();
  const page = PAGE_SIZES.prefixWalk;
  for (let from = Math.min(m.through, view.stableSlots); from < view.stableSlots; from += page) {
    const entries = await index.entries(view.tp, from, Math.min(view.stableSlots, from + page), page);
    bytes += bytesOf(entries);
    for (const e of entries) if (!e.hole && e.object !== undefined) objects.add(e.object);
  }
  return { sizeBytes: bytes, segments: m.settledSegments + m.tailSegments + objects.size };
}
