/**
 * Segment object: what one produce request PUTs to S3 (docs/ARCHITECTURE.md, "Write path"). It holds one
 * chunk per (topic, partition) touched, then a footer listing the chunks, then a fixed-size
 * trailer. Objects are self-describing: readers fetch one chunk by byte range (the index
 * entry in DynamoDB holds the range), and a maintenance or disaster-recovery tool reads the
 * footer alone with one suffix-range GET of the tail.
 *
 * Byte layout, versions 1 and 2 (all integers big-endian). Stable: never change a field in
 * place; a new layout gets a new version. Version 2 is version 1 plus each chunk's offsets,
 * for the per-partition segments maintenance writes (a produce's PUT happens before its
 * offsets are reserved, so it writes version 1): with them a partition's index can be
 * rebuilt from S3 alone.
 *
 *   offset 0            chunk 0 | chunk 1 | ... | chunk n-1
 *                         A chunk is exactly the bytes of one or more whole RecordBatch v2
 *                         frames of ONE (topic, partition), baseOffset fields written as 0.
 *                         Chunks are contiguous from byte 0; the footer lists them in order.
 *   offset dataLength   footer (footerLength bytes):
 *                         dataLength   int64   bytes of chunk data (= footer start)
 *                         chunkCount   uint32
 *                         per chunk:
 *                           topicIdLen  uint8  then topicId (UTF-8, 1..255 bytes; a uuid string)
 *                           partition   int32
 *                           byteOffset  int64  from the start of the object
 *                           byteLength  uint32
 *                           recordCount int32
 *                           minTimestamp int64
 *                           maxTimestamp int64
 *                           crc         uint32 CRC-32C of the chunk's bytes
 *   last 16 bytes       trailer (SEGMENT_TRAILER_BYTES):
 *                         footerLength uint32
 *                         footerCrc    uint32 CRC-32C of the footer bytes
 *                         version      uint16 (1, or 2 with chunk offsets)
 *                         flags        uint16 (= 0; readers reject unknown flags)
 *                         magic        4 bytes "SLSG"
 *
 * Object size = dataLength + footerLength + 16. Each batch keeps its own CRC; the per-chunk CRC
 * in the footer lets a tool verify a whole chunk (including the two batch fields Kafka leaves
 * outside the batch CRC) without trusting DynamoDB.
 */

import { crc32c } from './crc32c.ts';
import { CorruptSegmentError, CorruptSegmentReason } from './errors.ts';
import { readRecordBatchHeader } from './record-batch.ts';
import { readInt64, toBuffer, writeInt64 } from './int64.ts'

export const SEGMENT_MAGIC: Buffer = Buffer.from('SLSG', 'ascii');
export const SEGMENT_VERSION = 1;
/** The layout with chunk offsets (per-partition segments written by maintenance). */
export const SEGMENT_VERSION_WITH_OFFSETS = 2;
export const SEGMENT_TRAILER_BYTES = 16;
/** Max UTF-8 bytes of a topic id in the footer. */
export const MAX_TOPIC_ID_BYTES = 255;

const FOOTER_HEADER_BYTES = 12; // dataLength + chunkCount
const CHUNK_FIXED_BYTES = 1 + 4 + 8 + 4 + 4 + 8 + 8 + 4;
const CHUNK_OFFSET_BYTES = 8 + 8;

export interface SegmentChunkInput {
  topicId: string;
  partition: number;
  /** Already-encoded RecordBatch bytes (one or more whole batches). */
  batches: Uint8Array;
  recordCount: number;
  minTimestamp: number;
  maxTimestamp: number;
  /** Offsets of the chunk's records [baseOffset, endOffset): all chunks have them, or none. */
  baseOffset?: number;
  endOffset?: number;
}

export interface ChunkLocation {
  topicId: string;
  partition: number;
  byteOffset: number;
  byteLength: number;
  recordCount: number;
  minTimestamp: number;
  maxTimestamp: number;
  /** CRC-32C of the chunk bytes. */
  crc: number;
  /** Version 2 only. */
  baseOffset?: number;
  endOffset?: number;
}

export interface SegmentFooter {
  version: number;
  dataLength: number;
  footerLength: number;
  objectSize: number;
  chunks: ChunkLocation[];
}

export type SegmentFooterResult =
  | { complete: true; footer: SegmentFooter; }
  /** Read at least this many bytes from the end of the object and call again. */
  | { complete: false; bytesNeeded: number; };


/** Sum of record counts of the whole batches in `chunk`; throws RangeError if it is not exactly whole batches. */
function countRecords(chunk: Uint8Array, index: number): number {
  let pos = 0;
  let count = 0;
  while (pos < chunk.length) {
    let size: number;
    try {
      const h = readRecordBatchHeader(chunk, pos);
      size = h.sizeInBytes;
      count += h.recordCount;
    } catch (err) {
      throw new RangeError(`chunk ${index}: not a sequence of whole record batches at byte ${pos}`, { cause: err });
    }
    pos += size;
  }
  return count;
}

/**
 * Lay out chunks, footer and trailer in one Buffer (the PUT body). Validates that each chunk
 * is a sequence of whole batches whose record counts add up to `recordCount` (structure only;
 * batch CRCs were computed by the encoder a moment ago).
 */
export function encodeSegment(chunks: readonly SegmentChunkInput[]): { bytes: Buffer; chunks: ChunkLocation[]; } {
  const topicIds: Buffer[] = [];
  let dataLength = 0;
  let footerLength = FOOTER_HEADER_BYTES;
  const withOffsets = chunks.some((c) => c.baseOffset !== undefined || c.endOffset !== undefined);
  const version = withOffsets ? SEGMENT_VERSION_WITH_OFFSETS : SEGMENT_VERSION;
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    const id = Buffer.from(c.topicId, 'utf8');
    if (id.length < 1 || id.length > MAX_TOPIC_ID_BYTES) throw new RangeError(`chunk ${i}: topicId must be 1..${MAX_TOPIC_ID_BYTES} UTF-8 bytes`);
    if (!Number.isInteger(c.partition) || c.partition < 0 || c.partition > 0x7fffffff) throw new RangeError(`chunk ${i}: bad partition ${c.partition}`);
    if (c.batches.length === 0 || c.batches.length > 0xffffffff) throw new RangeError(`chunk ${i}: batches must be 1..2^32-1 bytes`);
    if (!Number.isSafeInteger(c.minTimestamp) || !Number.isSafeInteger(c.maxTimestamp)) throw new RangeError(`chunk ${i}: timestamps must be safe integers`);
    const counted = countRecords(c.batches, i);
    if (counted !== c.recordCount) throw new RangeError(`chunk ${i}: recordCount ${c.recordCount} but batches hold ${counted}`);
    if (withOffsets) {
      const { baseOffset: b, endOffset: e } = c;
      if (b === undefined || e === undefined) throw new RangeError(`chunk ${i}: offsets are given for some chunks, so every chunk needs both`);
      if (!Number.isSafeInteger(b) || !Number.isSafeInteger(e) || b < 0 || e < b + c.recordCount) {
        throw new RangeError(`chunk ${i}: bad offsets [${b}, ${e}) for ${c.recordCount} records`);
      }
    }
    topicIds.push(id);
    dataLength += c.batches.length;
    footerLength += CHUNK_FIXED_BYTES + id.length + (withOffsets ? CHUNK_OFFSET_BYTES : 0);
  }
  const bytes = Buffer.allocUnsafe(dataLength + footerLength + SEGMENT_TRAILER_BYTES);
  const locations: ChunkLocation[] = [];
  let pos = 0;
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    bytes.set(c.batches, pos);
    locations.push({
      topicId: c.topicId,
      partition: c.partition,
      byteOffset: pos,
      byteLength: c.batches.length,
      recordCount: c.recordCount,
      minTimestamp: c.minTimestamp,
      maxTimestamp: c.maxTimestamp,
      crc: crc32c(c.batches),
      ...(withOffsets ? { baseOffset: c.baseOffset!, endOffset: c.endOffset! } : {}),
    });
    pos += c.batches.length;
  }
  // footer
  const footerStart = pos;
  writeInt64(bytes, pos, dataLength);
  bytes.writeUInt32BE(chunks.length, pos + 8);
  pos += FOOTER_HEADER_BYTES;
  for (let i = 0; i < locations.length; i++) {
    const loc = locations[i]!;
    const id = topicIds[i]!;
    bytes[pos++] = id.length;
    id.copy(bytes, pos);
    pos += id.length;
    bytes.writeInt32BE(loc.partition, pos);
    writeInt64(bytes, pos + 4, loc.byteOffset);
    bytes.writeUInt32BE(loc.byteLength, pos + 12);
    bytes.writeInt32BE(loc.recordCount, pos + 16);
    writeInt64(bytes, pos + 20, loc.minTimestamp);
    writeInt64(bytes, pos + 28, loc.maxTimestamp);
    bytes.writeUInt32BE(loc.crc, pos + 36);
    pos += CHUNK_FIXED_BYTES - 1;
    if (withOffsets) {
      writeInt64(bytes, pos, loc.baseOffset!);
      writeInt64(bytes, pos + 8, loc.endOffset!);
      pos += CHUNK_OFFSET_BYTES;
    }
  }
  // trailer
  bytes.writeUInt32BE(footerLength, pos);
  bytes.writeUInt32BE(crc32c(bytes.subarray(footerStart, pos)), pos + 4);
  bytes.writeUInt16BE(version, pos + 8);
  bytes.writeUInt16BE(0, pos + 10);
  SEGMENT_MAGIC.copy(bytes, pos + 12);
  return { bytes, chunks: locations };
}

function bad(reason: CorruptSegmentReason, message: string): CorruptSegmentError {
  return new CorruptSegmentError(reason, message);
}

/**
 * Parse the footer from the last `tail.length` bytes of a segment object (or the whole
 * object). If `tail` is too short, answers how many tail bytes are needed instead.
 * Throws CorruptSegmentError on a bad trailer, footer CRC or footer structure.
 */
export function decodeSegmentFooter(tail: Uint8Array): SegmentFooterResult {
  const buf = toBuffer(tail);
  const len = buf.length;
  if (len < SEGMENT_TRAILER_BYTES) return { complete: false, bytesNeeded: SEGMENT_TRAILER_BYTES };
  const t = len - SEGMENT_TRAILER_BYTES;
  if (!buf.subarray(t + 12, len).equals(SEGMENT_MAGIC)) throw bad(CorruptSegmentReason.badMagic, 'trailer magic is not "SLSG"');
  const version = buf.readUInt16BE(t + 8);
  if (version !== SEGMENT_VERSION && version !== SEGMENT_VERSION_WITH_OFFSETS) {
    throw bad(CorruptSegmentReason.unsupportedVersion, `segment version ${version}`);
  }
  const offsetBytes = version === SEGMENT_VERSION_WITH_OFFSETS ? CHUNK_OFFSET_BYTES : 0;
  const flags = buf.readUInt16BE(t + 10);
  if (flags !== 0) throw bad(CorruptSegmentReason.unsupportedVersion, `unknown segment flags 0x${flags.toString(16)}`);
  const footerLength = buf.readUInt32BE(t);
  if (footerLength < FOOTER_HEADER_BYTES) throw bad(CorruptSegmentReason.badFooter, `footerLength ${footerLength}`);
  const need = footerLength + SEGMENT_TRAILER_BYTES;
  if (len < need) return { complete: false, bytesNeeded: need };
  const fs = t - footerLength;
  const footerBytes = buf.subarray(fs, t);
  const storedCrc = buf.readUInt32BE(t + 4);
  if (crc32c(footerBytes) !== storedCrc) throw bad(CorruptSegmentReason.footerCrcMismatch, 'footer CRC-32C mismatch');

  // The CRC matched, so a structural problem below means a writer bug, not bit rot; still typed.
  const dataLength = readInt64(buf, fs);
  const count = buf.readUInt32BE(fs + 8);
  if (dataLength < 0 || count * (CHUNK_FIXED_BYTES + 1 + offsetBytes) > footerLength - FOOTER_HEADER_BYTES) {
    throw bad(CorruptSegmentReason.badFooter, `dataLength ${dataLength}, chunkCount ${count}`);
  }
  const chunks: ChunkLocation[] = [];
  let pos = fs + FOOTER_HEADER_BYTES;
  let expectedOffset = 0;
  for (let i = 0; i < count; i++) {
    const idLen = buf[pos]!;
    if (idLen === 0 || pos + 1 + idLen + CHUNK_FIXED_BYTES - 1 + offsetBytes > t) throw bad(CorruptSegmentReason.badFooter, `chunk ${i}: entry overruns footer`);
    const topicId = buf.toString('utf8', pos + 1, pos + 1 + idLen);
    pos += 1 + idLen;
    const loc: ChunkLocation = {
      topicId,
      partition: buf.readInt32BE(pos),
      byteOffset: readInt64(buf, pos + 4),
      byteLength: buf.readUInt32BE(pos + 12),
      recordCount: buf.readInt32BE(pos + 16),
      minTimestamp: readInt64(buf, pos + 20),
      maxTimestamp: readInt64(buf, pos + 28),
      crc: buf.readUInt32BE(pos + 36),
    };
    pos += CHUNK_FIXED_BYTES - 1;
    if (offsetBytes > 0) {
      loc.baseOffset = readInt64(buf, pos);
      loc.endOffset = readInt64(buf, pos + 8);
      pos += offsetBytes;
      if (loc.baseOffset < 0 || loc.endOffset < loc.baseOffset + loc.recordCount) throw bad(CorruptSegmentReason.badFooter, `chunk ${i}: bad offsets`);
    }
    if (loc.byteOffset !== expectedOffset || loc.byteLength === 0) throw bad(CorruptSegmentReason.badFooter, `chunk ${i}: not contiguous`);
    expectedOffset += loc.byteLength;
    chunks.push(loc);
  }
  if (pos !== t || expectedOffset !== dataLength) throw bad(CorruptSegmentReason.badFooter, 'footer length or data length mismatch');
  return {
    complete: true,
    footer: { version, dataLength, footerLength, objectSize: dataLength + footerLength + SEGMENT_TRAILER_BYTES, chunks },
  };
}

/** The bytes of one chunk from a whole segment object (views, no copy). */
export function sliceChunk(segment: Uint8Array, loc: Pick<ChunkLocation, 'byteOffset' | 'byteLength'>): Uint8Array {
  if (loc.byteOffset < 0 || loc.byteOffset + loc.byteLength > segment.length) throw new RangeError('chunk outside the segment');
  return segment.subarray(loc.byteOffset, loc.byteOffset + loc.byteLength);
}

/** True when `chunk`'s bytes match the CRC-32C recorded in the footer. */
export function verifyChunk(chunk: Uint8Array, loc: Pick<ChunkLocation, 'crc' | 'byteLength'>): boolean {
  return chunk.length === loc.byteLength && crc32c(chunk) === loc.crc;
}
