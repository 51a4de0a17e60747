/**
 * Records as the log takes and returns them: bytes, with `null` a real null (distinct from
 * empty). The wire encodings (json, string, base64) are applied by the API, never below it.
 */

/** A record header: a UTF-8 key and a byte value (or null). */
export interface ByteHeader {
  readonly key: string;
  readonly value: Uint8Array | null;
}

/** What a producer hands the log. */
export interface ProducerRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly ByteHeader[];
  /** Explicit partition; otherwise the partitioner chooses (by key, sticky for null keys). */
  readonly partition?: number | undefined;
  /** CreateTime in ms since the epoch; defaults to the append time. */
  readonly timestamp?: number | undefined;
}

/** What the log hands back: a stored record at its offset, its timestamp as answered. */
export interface LogRecord {
  readonly partition: number;
  readonly offset: number;
  /** For LogAppendTime topics, the batch's append time. */
  readonly timestamp: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly ByteHeader[];
}
