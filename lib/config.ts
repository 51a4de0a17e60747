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
};

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

/** An unreferenced segment object younger than this may still be about to be published. */
export const ORPHAN_GRACE_MS = 20 * 60 * 1000;
