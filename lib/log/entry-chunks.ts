/**
 * The bytes of index entries, following entries that maintenance moved.
 *
 * A reader may hold an entry's old pointer: from its process cache (a window kept for hours on
 * a quiet partition) or from a page read just before a merge repointed it. The old object
 * stays readable for the garbage-collection grace period, and after that a GET answers
 * MissingSegmentError. Then the entries are read again (strongly consistent) and their new
 * pointers followed; the bytes are the same (a merge copies batches byte for byte, M4 in
 * lib/maintenance/merge-plan.ts), so the answer is too. Readers never notice maintenance.
 */
import { MissingSegmentError } from '../errors.ts';
import type { TopicPartition } from '../model/topic.ts';
import type { IndexEntry, IndexStore } from '../storage/index-store.ts';
import type { SegmentStore } from '../storage/segment-store.ts';

/** Re-reads after a miss: a second merge (and collection) between two reads is already rare. */
const MAX_FOLLOWS = 3;

export interface EntryChunks {
  /** The entries as read (fresh pointers where they had moved); same slots and offsets. */
  readonly entries: readonly IndexEntry[];
  /** The bytes of each data entry, by slot. */
  readonly chunks: ReadonlyMap<number, Uint8Array>;
  /** Entries whose pointers had moved (for the caller's cache), empty when none. */
  readonly moved: readonly IndexEntry[];
}

/** `ahead`: entries whose bytes may come along in the same GETs (SegmentStore.read), for later reads. */
export async function readEntryChunks(
  index: Pick<IndexStore, 'entries'>,
  segments: Pick<SegmentStore, 'read'>,
  tp: TopicPartition,
  entries: readonly IndexEntry[],
  ahead: readonly IndexEntry[] = [],
): Promise<EntryChunks> {
  let current = entries;
  const moved: IndexEntry[] = [];
  for (let follow = 0; ; follow++) {
    const data = current.filter((e) => !e.hole);
    try {
      const range = (e: IndexEntry) => ({ object: e.object!, position: e.position!, length: e.length! });
      // After a miss the ahead entries' pointers may be stale too: read only what was asked.
      const bytes = await segments.read(data.map(range), follow === 0 ? ahead.filter((e) => !e.hole).map(range) : []);
      return { entries: current, chunks: new Map(data.map((e, i) => [e.slot, bytes[i]!])), moved };
    } catch (err) {
      if (!(err instanceof MissingSegmentError) || follow >= MAX_FOLLOWS || data.length === 0) throw err;
      const first = data[0]!.slot;
      const last = data[data.length - 1]!.slot;
      const fresh = new Map((await index.entries(tp, first, last + 1, last - first + 1)).map((e) => [e.slot, e]));
      let changed = false;
      current = current.map((e) => {
        const f = fresh.get(e.slot);
        // Only a moved pointer is taken: same slot, same offsets (entries are otherwise immutable).
        if (!f || e.hole || f.base !== e.base || f.end !== e.end || (f.object === e.object && f.position === e.position)) return e;
        changed = true;
        moved.push(f);
        return f;
      });
      // Nothing moved: the object is really gone (not maintenance's doing), so say so.
      if (!changed) throw err;
    }
  }
}
