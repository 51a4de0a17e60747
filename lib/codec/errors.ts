/**
 * Codec errors. Deliberately independent of lib/errors.ts: the codec is a pure layer and
 * the log layer maps these to API errors in one place.
 *
 * `reason` values are stable identifiers (tests and the error mapper match on them);
 * never rename one, only add.
 */

export const CorruptBatchReason = {
  truncated: 'truncated',
  badLength: 'bad-length',
  badMagic: 'bad-magic',
  crcMismatch: 'crc-mismatch',
  badVarint: 'bad-varint',
  badRecord: 'bad-record',
  badRecordCount: 'bad-record-count',
  trailingBytes: 'trailing-bytes',
  unsupportedCompression: 'unsupported-compression',
  decompressionFailed: 'decompression-failed',
} as const;
export type CorruptBatchReason = (typeof CorruptBatchReason)[keyof typeof CorruptBatchReason];

/** A RecordBatch (or a chunk of them) failed validation. Never a partial result. */
export class CorruptBatchError extends Error {
  override readonly name = 'CorruptBatchError';
  readonly reason: CorruptBatchReason;
  constructor(reason: CorruptBatchReason, message: string, options?: { cause?: unknown; }) {
    super(`${reason}: ${message}`, options);
    this.reason = reason;
  }
}

export const VarintErrorReason = {
  truncated: 'truncated',
  overlong: 'overlong',
  unsafeInteger: 'unsafe-integer',
} as const;
export type VarintErrorReason = (typeof VarintErrorReason)[keyof typeof VarintErrorReason];

/** A varint could not be read (standalone use; the batch decoder wraps it in CorruptBatchError). */
export class VarintError extends Error {
  override readonly name = 'VarintError';
  readonly reason: VarintErrorReason;
  constructor(reason: VarintErrorReason, message: string) {
    super(`${reason}: ${message}`);
    this.reason = reason;
  }
}

export const CorruptSegmentReason = {
  truncated: 'truncated',
  badMagic: 'bad-magic',
  unsupportedVersion: 'unsupported-version',
  footerCrcMismatch: 'footer-crc-mismatch',
  badFooter: 'bad-footer',
} as const;
export type CorruptSegmentReason = (typeof CorruptSegmentReason)[keyof typeof CorruptSegmentReason];

/** A segment object's trailer or footer failed validation. */
export class CorruptSegmentError extends Error {
  override readonly name = 'CorruptSegmentError';
  readonly reason: CorruptSegmentReason;
  constructor(reason: CorruptSegmentReason, message: string) {
    super(`${reason}: ${message}`);
    this.reason = reason;
  }
}
