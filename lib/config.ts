/**
 * Every default of Sluice's tunables, once. Modules take their options injected and fall back
 * to these; `SLUICE_*` environment variables (lib/env.ts) override the LogTuning ones.
 * Limits published to clients (`GET /v1/cluster`) are in lib/limits.ts.
 */
import type { LogTuning } from './deps.ts';

export const TUNING_DEFAULTS: LogTuning = {
  /** A reserved slot unpublished for longer than this is filled with a hole by readers. */
  slotTimeoutMs: 10_000,
  /** Long-poll re-check interval when no in-process commit wakes the poll. */
  pollIntervalMs: 250,
  /** Byte budget of the in-memory segment cache. */
  segmentCacheBytes: 64 * 1024 * 1024,
  /** How long topic metadata is cached in memory. */
  topicCacheTtlMs: 5_000,
  /** Produce requests sharing one group commit at most (1 = off); measured in BENCHMARKS.md "aws-model". */
  groupCommitMaxRequests: 64,
  /** Off unless on AWS (AWS_TUNING_DEFAULTS). */
  s3HedgeAfterMs: 0,
  expressHedgeAfterMs: 0,
  /** Below API Gateway's 30 s integration limit; a dev server or container may hold longer. */
  sseMaxMs: 25_000,
  /** Well inside common proxies' idle timeouts (nginx: 60 s). */
  ssePingMs: 15_000,
  /** Under the fetch path's 20 s wait limit, itself under API Gateway's 30 s. */
  dsLongPollMs: 15_000,
};

/**
 * What the aws backend changes: hedged segment requests, at about the p90 of the latency the
 * aws-model bench injects (S3 Standard PUT p50 30 ms / p99 200 ms; Express p50 8 / p99 25), so
 * about one request in ten to twenty is sent twice (BENCHMARKS.md "aws-model").
 */
export const AWS_TUNING_DEFAULTS: Partial<LogTuning> = { s3HedgeAfterMs: 100, expressHedgeAfterMs: 20 };

/** Batch bytes one group commit carries at most (a single bigger request still goes alone). */
export const GROUP_COMMIT_MAX_BYTES = 8 * 1024 * 1024;

/** The per-process stable-prefix cache (lib/log/partition-index.ts). */
export const PREFIX_CACHE_DEFAULTS = {
  /** Minimum time between hint writes from one process for one partition. */
  hintIntervalMs: 1_000,
  /** Entries kept per partition in the process cache. */
  cachedEntries: 4_096,
  /**
   * Partitions kept in the process cache, least recently used dropped first (a dropped one
   * only costs its next reader a walk from the shared hint). Bounds the cache's memory to
   * about cachedPartitions x cachedEntries x ~0.3 KB.
   */
  cachedPartitions: 1_024,
  /** Pages (and hole fills) one refresh may do before reporting the prefix found so far. */
  maxPagesPerView: 32,
} as const;

/**
 * Index entries read per DynamoDB Query, by purpose. DynamoDB pages at 1 MB anyway (an entry
 * is ~200 bytes); smaller pages where a reader usually needs only a few entries.
 */
export const PAGE_SIZES = {
  /** Walking the stable prefix forward (a cold reader may walk far). */
  prefixWalk: 1_000,
  /** Finding the entries of a fetch below the cached window. */
  fetchWalk: 200,
  /** Offsets by timestamp and time-index stamping. */
  offsetsWalk: 200,
} as const;

/** Background time-index stamping (lib/log/time-index-stamper.ts), per partition. */
export const STAMP_DEFAULTS = {
  /** Entries one run stamps at most (a run follows an offsets-by-time lookup). */
  entriesPerRun: 1_000,
  /** Stamp writes (UpdateItem) in flight at once within a run. */
  inFlight: 4,
} as const;

/** A fetch's defaults when the request leaves them out (docs/API.md "Fetch"). */
export const FETCH_DEFAULTS = {
  maxRecords: 500,
  maxBytes: 1024 * 1024,
  waitMs: 0,
} as const;

/**
 * Read-ahead of a fetch in a merged segment (lib/log/fetch-plan.ts A1): the entries after the
 * plan that continue it in the same object are read in the same ranged GET and cached, so a
 * consumer paging through a merged partition pays about one GET per `bytes` (S3 charges per
 * request; a longer range costs only its transfer time). At most `entries` entries are looked at.
 */
export const FETCH_READ_AHEAD = { bytes: 1024 * 1024, entries: 1_000 } as const;

/** Transient storage failures: full-jitter exponential backoff, bounded (lib/storage/retry.ts). */
export const STORAGE_RETRY_DEFAULTS = { attempts: 4, baseDelayMs: 25, maxDelayMs: 800 } as const;

/** Lost races of conditional writes (lib/retry-on-conflict.ts), per caller. */
export const CONFLICT_RETRY_DEFAULTS = {
  baseDelayMs: 5,
  maxDelayMs: 200,
  attempts: { group: 50, topic: 8, producerInit: 10 },
} as const;

/** Kafka's transactional.id.expiration.ms default: idle producer state is forgotten after it. */
export const PRODUCER_EXPIRATION_MS = 7 * 24 * 3600 * 1000;

/** Consumer group sessions (Kafka's group.consumer.session.timeout.ms bounds and default). */
export const SESSION_TIMEOUT = { min: 1_000, max: 1_800_000, default: 45_000 } as const;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5_000;


/**
 * A produce publishes at most this long after its PUT, or gives up (503, its slots become
 * holes): garbage collection's grace must exceed it, so no object is collected before the
 * entries that point at it are published (a paused process would otherwise publish late).
 */
export const PUBLISH_DEADLINE_MS = 2 * 60 * 1000;

/** The least SLUICE_GC_GRACE_MS accepted: well above the publish deadline and any fetch. */
export const MIN_GC_GRACE_MS = 5 * 60 * 1000;

/** Maintenance (lib/maintenance): merge, garbage collection, topic deletion, index upkeep. */
export const MAINTENANCE_DEFAULTS = {
  /** Entries younger than this are not merged yet (SLUICE_MERGE_MIN_AGE_MS). */
  mergeMinAgeMs: 60_000,
  /** The most bytes one merged segment object holds (SLUICE_SEGMENT_TARGET_BYTES). */
  segmentTargetBytes: 64 * 1024 * 1024,
  /**
   * An unreferenced object is deleted only once older than this (SLUICE_GC_GRACE_MS): longer
   * than any fetch may still read it after a merge moved its entries, and than any produce may
   * take from its PUT to its publish (PUBLISH_DEADLINE_MS). At least MIN_GC_GRACE_MS when set
   * from the environment.
   */
  gcGraceMs: 15 * 60 * 1000,
  /** A full sweep (every old object checked) at most this often, and only after merges or deletions. */
  gcSweepIntervalMs: 5 * 60 * 1000,
  /** A sweep for new objects only (orphans of crashed producers) this long after the last sweep. */
  gcOrphanSweepIntervalMs: 60 * 60 * 1000,
  /** A dirty mark is acted on this long after it was made (the byObject index catches up). */
  gcSettleMs: 60_000,
  /** The dev server's maintenance timer (SLUICE_MAINTENANCE_INTERVAL_MS; 0 turns it off). */
  intervalMs: 10_000,
  /** Partitions whose state one tick reads (one BatchGetItem holds 50). */
  partitionsPerTick: 50,
  /** Merge runs one partition pass carries out; more are left for the next tick. */
  maxRunsPerPass: 2,
  /** Bytes one tick merges at most before it stops (memory: a run is held whole). */
  mergeBytesPerTick: 128 * 1024 * 1024,
  /** Entries after a partition's settled prefix one pass reads at most. */
  maxWindowEntries: 20_000,
  /** Source ranges of a merge read at once. */
  readConcurrency: 32,
  /** Objects listed per garbage-collection step. */
  gcPageSize: 1_000,
  /** Reference checks in flight at once. */
  gcCheckConcurrency: 16,
  /** Entries one pass stamps into the time index at most. */
  stampLimit: 1_000,
  /** Items one topic-deletion step deletes at most. */
  deletionItemsPerStep: 500,
  /**
   * Keys one compaction pass maps (Kafka's cleaner offset map): an MD5 hex hash and an offset,
   * ~120 bytes each in a JS Map, so 1 M keys are ~120 MB. More keys: several passes.
   */
  compactionMaxKeys: 1_000_000,
  /** The scheduled function stops starting ticks this long before its timeout. */
  lambdaSafetyMs: 30_000,
} as const;

export type MaintenanceSettings = { -readonly [K in keyof typeof MAINTENANCE_DEFAULTS]: number };
