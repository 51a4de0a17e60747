/**
 * The log table (pk S, sk N): one item collection per partition of a topic incarnation.
 *   partition      pk "<topicId>#<partition>"       sk -2 (hint), -1 (head), slot >= 0 (entries)
 *                  Keyed by topicId, never by name: a re-created topic starts empty.
 * Entry attributes (ENTRY_ATTR) and the time-index key (byTime's sort key) are here too, so
 * this file is the whole layout of the table; index-store.ts reads and writes it.
 */
import type { TopicPartition } from '../../model/topic.ts';

/** Sort key of a partition's head item; entries use their slot number (>= 0). */
export const HEAD_SLOT = -1;
/** Sort key of a partition's hint item (lazily kept summary of the stable prefix). */
export const HINT_SLOT = -2;

export function partitionKey(topicId: string, partition: number): string {
  return `${topicId}#${partition}`;
}

export function pkOf(tp: TopicPartition): string {
  return partitionKey(tp.topicId, tp.partition);
}

/** The last '#' separates: topic ids may contain '#' themselves. */
export function parsePartitionKey(pk: string): { topicId: string; partition: number } {
  const hash = pk.lastIndexOf('#');
  const digits = pk.slice(hash + 1);
  const partition = Number(digits);
  if (hash <= 0 || !/^\d+$/.test(digits) || !Number.isSafeInteger(partition)) {
    throw new Error(`not a partition key: ${pk}`);
  }
  return { topicId: pk.slice(0, hash), partition };
}

/** Attribute names of the head item (the reserve target: one atomic ADD hands out a slot). */
export const HEAD_ATTR = {
  /** Slots reserved so far. */
  slots: 'slots',
  /** Next offset to hand out. */
  next: 'next',
  /** Time of the latest reservation (ms). */
  reservedAt: 'at',
} as const;

/** Attribute names of the hint item (a lazily kept, verified summary of the stable prefix). */
export const HINT_ATTR = {
  stable: 'stable',
  highWatermark: 'hwm',
  /** Writer version of stable/hwm: hints without it are not believed. */
  version: 'v',
  logStartOffset: 'lso',
  /** Slots [0, stamped) carry a time-index key; runMax is their max timestamp. */
  stamped: 'stamped',
  runningMaxTs: 'runMax',
} as const;

/**
 * Attribute names of maintenance's summary on the hint item (lib/maintenance/partition-pass.ts):
 * how far a partition is merged for good, what its stored bytes and objects are, and when it
 * next needs a look. Written by maintenance only, conditional on `version`.
 */
export const MAINTENANCE_ATTR = {
  /** Slots [0, settled) are in settled segments: no merge rewrites them again. */
  settled: 'mFrom',
  settledBytes: 'sBytes',
  settledSegments: 'sSegs',
  /** Slots [0, through) were looked at by the last pass (merged where due, stamped, summed). */
  through: 'mTo',
  /** Bytes and distinct objects of the data entries in [settled, through). */
  tailBytes: 'tBytes',
  tailSegments: 'tSegs',
  /** When entries the last pass found too young become old enough to merge (0: none left). */
  due: 'mDue',
  version: 'mVer',
  /** Slots [0, cleared) lie wholly below the log start offset and hold no data (emptied). */
  cleared: 'cleared',
  /** The topic's config version the last pass applied (a changed retention config needs a pass). */
  configVersion: 'mCfg',
  /** Compaction's checkpoint: offsets below it are clean (at most one record per key). */
  compactedTo: 'cTo',
  /** Bumped when compaction rewrites entries: readers drop cached entries read before. */
  revision: 'rev',
} as const;

/** Attribute names of an entry item (data or hole). */
export const ENTRY_ATTR = {
  /** 'd' data, 'h' hole */
  state: 'st',
  base: 'base',
  end: 'end',
  object: 'obj',
  position: 'pos',
  length: 'len',
  recordCount: 'cnt',
  budgetBytes: 'usz',
  minTimestamp: 'minTs',
  maxTimestamp: 'maxTs',
  publishedAt: 'at',
  /** byTime's sort key, set once the entry is stable (timeIndexKey). */
  timeKey: 'tsKey',
  /** When compaction first kept this entry's tombstones (their delete horizon starts then). */
  tombstonesAt: 'tombAt',
} as const;

export const ENTRY_STATE = { data: 'd', hole: 'h' } as const;

const TS_PAD = 16;
const SLOT_PAD = 12;

/** "<maxTs>#<slot>", zero-padded so string order is (maxTs, slot) order. */
export function timeIndexKey(maxTs: number, slot: number): string {
  return `${String(Math.max(0, maxTs)).padStart(TS_PAD, '0')}#${String(slot).padStart(SLOT_PAD, '0')}`;
}

export function parseTimeIndexKey(key: string): { maxTs: number; slot: number } | undefined {
  const m = /^(\d{16})#(\d{12})$/.exec(key);
  return m ? { maxTs: Number(m[1]), slot: Number(m[2]) } : undefined;
}

/** Every time-index key of entries whose running max is >= timestamp sorts at or after this. */
export function timeIndexLowerBound(timestamp: number): string {
  return String(Math.max(0, timestamp)).padStart(TS_PAD, '0');
}
