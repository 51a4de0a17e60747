/**
 * Kafka RecordBatch v2 (magic 2) encoder and decoder.
 * Spec: https://kafka.apache.org/documentation/#recordbatch (docs/implementation.html §5.3.1,
 * §5.3.2), apache/kafka clients/.../record/DefaultRecordBatch.java and DefaultRecord.java.
 *
 * RecordBatch (all integers big-endian):
 *   off  size  field
 *     0     8  baseOffset            int64  (written 0 by Sluice; outside the CRC; patched on read)
 *     8     4  batchLength           int32  bytes after this field (total size - 12)
 *    12     4  partitionLeaderEpoch  int32  (outside the CRC)
 *    16     1  magic                 int8   = 2
 *    17     4  crc                   uint32 CRC-32C of bytes [21, 12 + batchLength)
 *    21     2  attributes            int16  bits 0-2 compression, 3 timestampType (1 = LogAppendTime),
 *                                           4 isTransactional, 5 isControl, 6 hasDeleteHorizonMs
 *    23     4  lastOffsetDelta       int32
 *    27     8  baseTimestamp         int64
 *    35     8  maxTimestamp          int64
 *    43     8  producerId            int64  (-1 = none)
 *    51     2  producerEpoch         int16  (-1 = none)
 *    53     4  baseSequence          int32  (-1 = none)
 *    57     4  recordsCount          int32
 *    61     …  records               (compressed as one blob when compression != 0)
 *
 * Record:
 *   length varint (bytes after this field) | attributes int8 (unused, 0) |
 *   timestampDelta varlong | offsetDelta varint | keyLength varint (-1 = null) | key |
 *   valueLength varint (-1 = null) | value | headerCount varint |
 *   headers: [keyLength varint | key (UTF-8) | valueLength varint (-1 = null) | value]
 *
 * Decoder contract: the CRC and batch length are verified; anything malformed throws
 * CorruptBatchError (never another error type, never a partial result), except that a codec
 * whose package does not load throws CodecUnavailableError (the bytes may be fine). Decoded keys, values
 * and header values are subarray VIEWS: for uncompressed batches they alias the input bytes
 * (do not mutate or reuse the input while records are alive), for compressed ones they alias
 * the decompressed buffer.
 *
 * Fields outside the CRC by Kafka's design: baseOffset (bytes 0..7) and partitionLeaderEpoch
 * (12..15). batchLength and magic are outside it too but are validated structurally.
 */

import { CodecUnavailableError, CompressionCodec, type CompressionCodecId, compress, decompress, isCompressionCodecId } from './compression.ts';
import { crc32c } from './crc32c.ts';
import { CorruptBatchError, CorruptBatchReason, VarintError } from './errors.ts';
import { type Cursor, readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.ts';
import { readInt64, toBuffer, writeInt64 } from './int64.ts'

// Stable on-disk layout: never renumber.
export const BatchField = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordsCount: 57,
  records: 61,
} as const;

/** baseOffset + batchLength: the bytes before what batchLength counts. */
export const LOG_OVERHEAD = 12;
/** Size of a batch with no records (header only). */
export const RECORD_BATCH_OVERHEAD = 61;
export const MAGIC_V2 = 2;
/** Kafka's "no value" markers. */
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1;

const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_MASK = 0x08;
const TRANSACTIONAL_MASK = 0x10;
const CONTROL_MASK = 0x20;
const DELETE_HORIZON_MASK = 0x40;

export const TimestampType = { CreateTime: 'CreateTime', LogAppendTime: 'LogAppendTime' } as const;
export type TimestampType = (typeof TimestampType)[keyof typeof TimestampType];

export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

export interface RecordInput {
  /** Defaults to the record's index. Must strictly increase within a batch. */
  offsetDelta?: number;
  /**
   * Ignored for CreateTime (derived from timestamp - baseTimestamp). For LogAppendTime batches
   * the decoded `timestamp` is the batch's append time, so the original delta is kept here and
   * re-encoded when present.
   */
  timestampDelta?: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** Ordered; duplicate keys allowed. */
  headers?: readonly RecordHeader[];
}

export interface RecordBatchInput {
  /** Written into bytes 0..7; Sluice writes 0 and patches on read. */
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  compression?: CompressionCodecId;
  timestampType?: TimestampType;
  isTransactional?: boolean;
  isControl?: boolean;
  hasDeleteHorizonMs?: boolean;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  /** Defaults to the first record's timestamp (as the Java client does), -1 when empty. */
  baseTimestamp?: number;
  /** Defaults to the largest record timestamp, -1 when empty. */
  maxTimestamp?: number;
  /** Defaults to the last record's offsetDelta (0 when empty). Larger values leave a gap. */
  lastOffsetDelta?: number;
  records: readonly RecordInput[];
}

/** A decoded record. Named DecodedRecord so it never shadows TypeScript's global `Record<K, V>`. */
export interface DecodedRecord {
  offset: number;
  offsetDelta: number;
  /** Raw delta from the batch; `timestamp` already accounts for it (or for LogAppendTime). */
  timestampDelta: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface RecordBatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: CompressionCodecId;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizonMs: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
  /** 12 + batchLength: bytes this batch occupies. */
  sizeInBytes: number;
}

export interface RecordBatch extends RecordBatchHeader {
  records: DecodedRecord[];
}

export interface DecodeOptions {
  /** Report this base offset instead of the stored one (Sluice stores 0). */
  baseOffset?: number;
  /** Default true. Only a caller that just verified the same bytes should turn it off. */
  verifyCrc?: boolean;
}

// ---------------------------------------------------------------------------------------
// int64 helpers (numbers; exact for |v| <= 2^53 - 1)


function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const INT16_MIN = -0x8000;
const INT16_MAX = 0x7fff;
const SAFE = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------------------
// encode

/** Reused scratch for per-record body sizes; grown on demand (encode is synchronous). */
let scratch = new Int32Array(1024);

/**
 * Encode one RecordBatch v2. Sizes are computed first and records are written straight into
 * one preallocated Buffer (plus one more for the compressed form). Throws RangeError on
 * invalid input (bad offsets, non-integer timestamps, out-of-range header fields).
 */
export function encodeRecordBatch(batch: RecordBatchInput): Buffer {
  const records = batch.records;
  const n = records.length;
  const codec = batch.compression ?? CompressionCodec.none;
  if (!isCompressionCodecId(codec)) throw new RangeError(`unknown compression codec id ${String(codec)}`);
  const logAppend = batch.timestampType === TimestampType.LogAppendTime;
  const baseOffset = batch.baseOffset ?? 0;
  const ple = batch.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH;
  const producerId = batch.producerId ?? NO_PRODUCER_ID;
  const producerEpoch = batch.producerEpoch ?? NO_PRODUCER_EPOCH;
  const baseSequence = batch.baseSequence ?? NO_SEQUENCE;
  checkInt('baseOffset', baseOffset, -SAFE, SAFE);
  checkInt('partitionLeaderEpoch', ple, INT32_MIN, INT32_MAX);
  checkInt('producerId', producerId, -SAFE, SAFE);
  checkInt('producerEpoch', producerEpoch, INT16_MIN, INT16_MAX);
  checkInt('baseSequence', baseSequence, INT32_MIN, INT32_MAX);

  // Pass 1: timestamps, offset deltas, sizes.
  const baseTimestamp = batch.baseTimestamp ?? (n > 0 ? records[0]!.timestamp : NO_TIMESTAMP);
  checkInt('baseTimestamp', baseTimestamp, -SAFE, SAFE);
  let maxTs = -Infinity;
  let prevDelta = -1;
  if (scratch.length < n) scratch = new Int32Array(Math.max(n, scratch.length * 2));
  const sizes = scratch;
  let recordsSize = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    const ts = r.timestamp;
    if (!Number.isSafeInteger(ts)) throw new RangeError(`record ${i}: timestamp must be a safe integer, got ${ts}`);
    if (ts > maxTs) maxTs = ts;
    const offsetDelta = r.offsetDelta ?? i;
    if (!Number.isInteger(offsetDelta) || offsetDelta <= prevDelta || offsetDelta > INT32_MAX) {
      throw new RangeError(`record ${i}: offsetDelta ${offsetDelta} must be an int32 greater than ${prevDelta}`);
    }
    prevDelta = offsetDelta;
    const tsDelta = logAppend && r.timestampDelta !== undefined ? r.timestampDelta : ts - baseTimestamp;
    let size = 1 + sizeOfVarlong(tsDelta) + sizeOfVarint(offsetDelta);
    const key = r.key;
    const value = r.value;
    size += key === null ? 1 : sizeOfVarint(key.length) + key.length;
    size += value === null ? 1 : sizeOfVarint(value.length) + value.length;
    const headers = r.headers;
    if (headers === undefined || headers.length === 0) {
      size += 1;
    } else {
      size += sizeOfVarint(headers.length);
      for (let h = 0; h < headers.length; h++) {
        const hdr = headers[h]!;
        const kl = Buffer.byteLength(hdr.key, 'utf8');
        size += sizeOfVarint(kl) + kl;
        const hv = hdr.value;
        size += hv === null ? 1 : sizeOfVarint(hv.length) + hv.length;
      }
    }
    sizes[i] = size;
    recordsSize += sizeOfVarint(size) + size;
  }
  const maxTimestamp = batch.maxTimestamp ?? (n > 0 ? maxTs : NO_TIMESTAMP);
  checkInt('maxTimestamp', maxTimestamp, -SAFE, SAFE);
  const lastOffsetDelta = batch.lastOffsetDelta ?? (n > 0 ? prevDelta : 0);
  checkInt('lastOffsetDelta', lastOffsetDelta, Math.max(prevDelta, 0), INT32_MAX);

  // Pass 2: write records into their final place (uncompressed) or a scratch buffer.
  let out: Buffer;
  if (codec === CompressionCodec.none) {
    out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + recordsSize);
    writeRecords(out, RECORD_BATCH_OVERHEAD, records, sizes, baseTimestamp, logAppend);
  } else {
    const raw = Buffer.allocUnsafe(recordsSize);
    writeRecords(raw, 0, records, sizes, baseTimestamp, logAppend);
    const packed = compress(codec, raw);
    out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + packed.length);
    packed.copy(out, RECORD_BATCH_OVERHEAD);
  }

  let attributes = codec;
  if (logAppend) attributes |= TIMESTAMP_TYPE_MASK;
  if (batch.isTransactional) attributes |= TRANSACTIONAL_MASK;
  if (batch.isControl) attributes |= CONTROL_MASK;
  if (batch.hasDeleteHorizonMs) attributes |= DELETE_HORIZON_MASK;

  writeInt64(out, BatchField.baseOffset, baseOffset);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BatchField.batchLength);
  out.writeInt32BE(ple, BatchField.partitionLeaderEpoch);
  out[BatchField.magic] = MAGIC_V2;
  out.writeInt16BE(attributes, BatchField.attributes);
  out.writeInt32BE(lastOffsetDelta, BatchField.lastOffsetDelta);
  writeInt64(out, BatchField.baseTimestamp, baseTimestamp);
  writeInt64(out, BatchField.maxTimestamp, maxTimestamp);
  writeInt64(out, BatchField.producerId, producerId);
  out.writeInt16BE(producerEpoch, BatchField.producerEpoch);
  out.writeInt32BE(baseSequence, BatchField.baseSequence);
  out.writeInt32BE(n, BatchField.recordsCount);
  out.writeUInt32BE(crc32c(out.subarray(BatchField.attributes)), BatchField.crc);
  return out;
}

function writeBytes(buf: Buffer, pos: number, bytes: Uint8Array | null): number {
  if (bytes === null) {
    buf[pos] = 1; // zigzag(-1)
    return pos + 1;
  }
  const len = bytes.length;
  pos = writeVarint(buf, pos, len);
  if (len < 32) {
    // Short copies: a loop beats TypedArray#set's call overhead.
    for (let j = 0; j < len; j++) buf[pos + j] = bytes[j]!;
  } else {
    buf.set(bytes, pos);
  }
  return pos + len;
}

function writeRecords(
  buf: Buffer,
  pos: number,
  records: readonly RecordInput[],
  sizes: Int32Array,
  baseTimestamp: number,
  logAppend: boolean,
): void {
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    pos = writeVarint(buf, pos, sizes[i]!);
    buf[pos++] = 0; // record attributes: unused
    pos = writeVarlong(buf, pos, logAppend && r.timestampDelta !== undefined ? r.timestampDelta : r.timestamp - baseTimestamp);
    pos = writeVarint(buf, pos, r.offsetDelta ?? i);
    pos = writeBytes(buf, pos, r.key);
    pos = writeBytes(buf, pos, r.value);
    const headers = r.headers;
    if (headers === undefined || headers.length === 0) {
      buf[pos++] = 0;
    } else {
      pos = writeVarint(buf, pos, headers.length);
      for (let h = 0; h < headers.length; h++) {
        const hdr = headers[h]!;
        const kl = Buffer.byteLength(hdr.key, 'utf8');
        pos = writeVarint(buf, pos, kl);
        pos += buf.write(hdr.key, pos, kl, 'utf8');
        pos = writeBytes(buf, pos, hdr.value);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// decode

function corrupt(reason: CorruptBatchReason, message: string, cause?: unknown): CorruptBatchError {
  return new CorruptBatchError(reason, message, cause === undefined ? undefined : { cause });
}

function readRecordBatchHeaderAt(buf: Buffer, at: number): RecordBatchHeader {
  const avail = buf.length - at;
  if (avail < RECORD_BATCH_OVERHEAD) {
    throw corrupt(CorruptBatchReason.truncated, `need ${RECORD_BATCH_OVERHEAD} header bytes, have ${avail}`);
  }
  const batchLength = buf.readInt32BE(at + BatchField.batchLength);
  if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) {
    throw corrupt(CorruptBatchReason.badLength, `batchLength ${batchLength} is below the minimum ${RECORD_BATCH_OVERHEAD - LOG_OVERHEAD}`);
  }
  const sizeInBytes = LOG_OVERHEAD + batchLength;
  if (sizeInBytes > avail) {
    throw corrupt(CorruptBatchReason.truncated, `batch needs ${sizeInBytes} bytes, have ${avail}`);
  }
  const magic = buf.readInt8(at + BatchField.magic);
  if (magic !== MAGIC_V2) throw corrupt(CorruptBatchReason.badMagic, `magic ${magic}, only ${MAGIC_V2} is supported`);
  const attributes = buf.readInt16BE(at + BatchField.attributes);
  const compression = attributes & COMPRESSION_MASK;
  if (!isCompressionCodecId(compression)) {
    throw corrupt(CorruptBatchReason.unsupportedCompression, `compression id ${compression}`);
  }
  return {
    baseOffset: readInt64(buf, at + BatchField.baseOffset),
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(at + BatchField.partitionLeaderEpoch),
    magic,
    crc: buf.readUInt32BE(at + BatchField.crc),
    attributes,
    compression,
    timestampType: attributes & TIMESTAMP_TYPE_MASK ? TimestampType.LogAppendTime : TimestampType.CreateTime,
    isTransactional: (attributes & TRANSACTIONAL_MASK) !== 0,
    isControl: (attributes & CONTROL_MASK) !== 0,
    hasDeleteHorizonMs: (attributes & DELETE_HORIZON_MASK) !== 0,
    lastOffsetDelta: buf.readInt32BE(at + BatchField.lastOffsetDelta),
    baseTimestamp: readInt64(buf, at + BatchField.baseTimestamp),
    maxTimestamp: readInt64(buf, at + BatchField.maxTimestamp),
    producerId: readInt64(buf, at + BatchField.producerId),
    producerEpoch: buf.readInt16BE(at + BatchField.producerEpoch),
    baseSequence: buf.readInt32BE(at + BatchField.baseSequence),
    recordCount: buf.readInt32BE(at + BatchField.recordsCount),
    sizeInBytes,
  };
}

/**
 * Read and structurally validate a batch header at `at` (length, magic, compression id) without
 * checking the CRC or touching the records. Cheap: for indexing and walking chunks.
 */
export function readRecordBatchHeader(bytes: Uint8Array, at = 0): RecordBatchHeader {
  return readRecordBatchHeaderAt(toBuffer(bytes), at);
}

/** Decode exactly one batch: `bytes` must hold one whole batch and nothing more. */
export function decodeRecordBatch(bytes: Uint8Array, opts?: DecodeOptions): RecordBatch {
  const buf = toBuffer(bytes);
  const batch = guarded(() => decodeAt(buf, 0, opts?.baseOffset, opts?.verifyCrc ?? true));
  if (batch.sizeInBytes !== buf.length) {
    throw corrupt(CorruptBatchReason.trailingBytes, `${buf.length - batch.sizeInBytes} bytes after the batch`);
  }
  return batch;
}

/**
 * Decode a chunk of concatenated batches (one segment chunk). With `baseOffset`, batches are
 * given consecutive offsets from it (each next base = previous base + lastOffsetDelta + 1),
 * which is how Sluice stores them (base offset fields 0); without it, stored bases are used.
 * A partial trailing batch is an error (Sluice never writes one).
 */
export function decodeRecordBatches(bytes: Uint8Array, opts?: DecodeOptions): RecordBatch[] {
  const buf = toBuffer(bytes);
  const verifyCrc = opts?.verifyCrc ?? true;
  return guarded(() => {
    const out: RecordBatch[] = [];
    let pos = 0;
    let next = opts?.baseOffset;
    while (pos < buf.length) {
      const batch = decodeAt(buf, pos, next, verifyCrc);
      if (next !== undefined) next += batch.lastOffsetDelta + 1;
      out.push(batch);
      pos += batch.sizeInBytes;
    }
    return out;
  });
}

/** Any failure inside decoding surfaces as CorruptBatchError, whatever threw it. */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CorruptBatchError) throw err;
    // A codec that cannot load says nothing about the bytes: never report it as corruption.
    if (err instanceof CodecUnavailableError) throw err;
    if (err instanceof VarintError) throw corrupt(CorruptBatchReason.badVarint, err.message, err);
    if (err instanceof RangeError) throw corrupt(CorruptBatchReason.truncated, err.message, err);
    throw corrupt(CorruptBatchReason.badRecord, err instanceof Error ? err.message : String(err), err);
  }
}

function decodeAt(buf: Buffer, at: number, baseOffsetOverride: number | undefined, verifyCrc: boolean): RecordBatch {
  const h = readRecordBatchHeaderAt(buf, at);
  const end = at + h.sizeInBytes;
  if (verifyCrc) {
    const actual = crc32c(buf.subarray(at + BatchField.attributes, end));
    if (actual !== h.crc) {
      throw corrupt(CorruptBatchReason.crcMismatch, `stored crc 0x${h.crc.toString(16)}, computed 0x${actual.toString(16)}`);
    }
  }
  if (baseOffsetOverride !== undefined) h.baseOffset = baseOffsetOverride;
  const count = h.recordCount;
  if (count < 0) throw corrupt(CorruptBatchReason.badRecordCount, `negative record count ${count}`);

  let src = buf;
  let pos = at + RECORD_BATCH_OVERHEAD;
  let srcEnd = end;
  if (h.compression !== CompressionCodec.none && !(count === 0 && pos === end)) {
    try {
      src = decompress(h.compression, buf.subarray(pos, end));
    } catch (err) {
      if (err instanceof CodecUnavailableError) throw err;
      throw corrupt(CorruptBatchReason.decompressionFailed, err instanceof Error ? err.message : String(err), err);
    }
    pos = 0;
    srcEnd = src.length;
  }
  // Each record needs at least 7 bytes (length, attributes, 2 deltas, key, value, header count).
  if (count * 7 > srcEnd - pos) {
    throw corrupt(CorruptBatchReason.badRecordCount, `${count} records cannot fit in ${srcEnd - pos} bytes`);
  }
  const records = decodeRecords(src, pos, srcEnd, count, h);
  return { ...h, records };
}

function decodeRecords(buf: Buffer, start: number, end: number, count: number, h: RecordBatchHeader): DecodedRecord[] {
  const records = new Array<DecodedRecord>(count);
  const cur: Cursor = { pos: start };
  const logAppend = h.timestampType === TimestampType.LogAppendTime;
  const baseTimestamp = h.baseTimestamp;
  const baseOffset = h.baseOffset;
  for (let i = 0; i < count; i++) {
    const len = readVarint(buf, cur, end);
    const recEnd = cur.pos + len;
    if (len < 6 || recEnd > end) throw corrupt(CorruptBatchReason.badRecord, `record ${i}: length ${len} out of bounds`);
    cur.pos++; // attributes (unused in v2)
    const timestampDelta = readVarlong(buf, cur, recEnd);
    const offsetDelta = readVarint(buf, cur, recEnd);
    const key = readBytes(buf, cur, recEnd, i);
    const value = readBytes(buf, cur, recEnd, i);
    const hc = readVarint(buf, cur, recEnd);
    if (hc < 0 || hc * 2 > recEnd - cur.pos) throw corrupt(CorruptBatchReason.badRecord, `record ${i}: header count ${hc}`);
    const headers = new Array<RecordHeader>(hc);
    for (let j = 0; j < hc; j++) {
      const kl = readVarint(buf, cur, recEnd);
      const ks = cur.pos;
      if (kl < 0 || ks + kl > recEnd) throw corrupt(CorruptBatchReason.badRecord, `record ${i}: header key length ${kl}`);
      cur.pos = ks + kl;
      headers[j] = { key: buf.toString('utf8', ks, ks + kl), value: readBytes(buf, cur, recEnd, i) };
    }
    if (cur.pos !== recEnd) throw corrupt(CorruptBatchReason.badRecord, `record ${i}: ${recEnd - cur.pos} bytes unaccounted for`);
    records[i] = {
      offset: baseOffset + offsetDelta,
      offsetDelta,
      timestampDelta,
      timestamp: logAppend ? h.maxTimestamp : baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    };
  }
  if (cur.pos !== end) {
    throw corrupt(CorruptBatchReason.badRecordCount, `${end - cur.pos} bytes left after ${count} records`);
  }
  return records;
}

function readBytes(buf: Buffer, cur: Cursor, end: number, i: number): Buffer | null {
  const len = readVarint(buf, cur, end);
  if (len === -1) return null;
  const s = cur.pos;
  if (len < -1 || s + len > end) throw corrupt(CorruptBatchReason.badRecord, `record ${i}: byte length ${len} out of bounds`);
  cur.pos = s + len;
  return buf.subarray(s, s + len);
}

/**
 * Checks a chunk of concatenated batches without decoding records: framing and every batch's
 * CRC-32C. Cheap (no decompression); for copying stored chunks (maintenance) without copying
 * corruption along. Returns false instead of throwing.
 */
export function verifyRecordBatches(bytes: Uint8Array): boolean {
  const buf = toBuffer(bytes);
  try {
    let pos = 0;
    while (pos < buf.length) {
      const header = readRecordBatchHeaderAt(buf, pos);
      const end = pos + header.sizeInBytes;
      if (crc32c(buf.subarray(pos + BatchField.attributes, end)) !== header.crc) return false;
      pos = end;
    }
    return buf.length > 0;
  } catch {
    return false;
  }
}
