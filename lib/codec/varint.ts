/**
 * Kafka variable-length integers (protobuf base-128, little-endian groups).
 *
 *   varint   : int32, zigzag-encoded ((n << 1) ^ (n >> 31)), 1..5 bytes
 *   varlong  : int64, zigzag-encoded, 1..10 bytes
 *   unsigned : int32 treated as uint32, no zigzag, 1..5 bytes (compact/flexible protocol fields)
 *
 * Each byte carries 7 value bits, least-significant group first; the high bit (0x80) says
 * "another byte follows". Spec: apache/kafka ByteUtils.java (readVarint/readVarlong/
 * readUnsignedVarint) and https://protobuf.dev/programming-guides/encoding/#varints.
 *
 * Overlong input is rejected exactly as Kafka does: a varint whose 5th byte still has the
 * continuation bit set, or a varlong whose 10th byte does, throws. Excess high bits in the
 * last allowed byte are truncated (int32/int64 arithmetic), as in Java.
 *
 * Readers take a mutable cursor so the batch decoder can walk a buffer without allocating.
 * `number` varlongs are exact for |n| <= 2^53 - 1 (timestamps, deltas); outside that range
 * use the `...Big` variants.
 */

import { VarintError, VarintErrorReason } from './errors.ts';

/** Longest encodings Kafka accepts. */
export const MAX_VARINT_BYTES = 5;
export const MAX_VARLONG_BYTES = 10;

/** A read position; `pos` advances past what was read. */
export interface Cursor {
  pos: number;
}

// ---------------------------------------------------------------------------------------
// sizes

/** Bytes needed for an unsigned 32-bit value (already zigzagged or unsigned). */
function sizeOfUint32(u: number): number {
  if (u < 0x80) return 1;
  if (u < 0x4000) return 2;
  if (u < 0x200000) return 3;
  if (u < 0x10000000) return 4;
  return 5;
}

export function sizeOfVarint(value: number): number {
  return sizeOfUint32(((value << 1) ^ (value >> 31)) >>> 0);
}

export function sizeOfUnsignedVarint(value: number): number {
  return sizeOfUint32(value >>> 0);
}

export function sizeOfVarlong(value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return sizeOfVarint(value);
  // zigzag = 2a + sign with a = v or -v-1; 2a + 1 can exceed 2^53, so never form it.
  let rest = Math.floor((value >= 0 ? value : -value - 1) / 64);
  let n = 1;
  while (rest > 0) {
    rest = Math.floor(rest / 128);
    n++;
  }
  return n;
}

export function sizeOfVarlongBig(value: bigint): number {
  let zz = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  let n = 1;
  while (zz >= 128n) {
    zz >>= 7n;
    n++;
  }
  return n;
}

// ---------------------------------------------------------------------------------------
// writers: write at `pos`, return the position after the last byte written. The caller
// sizes the buffer (sizeOf*), so writers do no bounds checks of their own.

function writeUint32(buf: Uint8Array, pos: number, u: number): number {
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  return writeUint32(buf, pos, ((value << 1) ^ (value >> 31)) >>> 0);
}

export function writeUnsignedVarint(buf: Uint8Array, pos: number, value: number): number {
  return writeUint32(buf, pos, value >>> 0);
}

export function writeVarlong(buf: Uint8Array, pos: number, value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return writeVarint(buf, pos, value);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`varlong value ${value} is not a safe integer; use writeVarlongBig`);
  }
  // zigzag(v) = 2a + s with a = v (s = 0) or -v - 1 (s = 1). 2a + 1 may not be exact in
  // float64 (it can exceed 2^53), so emit the first 7 bits from a's low 6 bits and s, then a / 64.
  const negative = value < 0;
  const a = negative ? -value - 1 : value;
  let rest = Math.floor(a / 64);
  const first = (a % 64) * 2 + (negative ? 1 : 0);
  if (rest === 0) {
    buf[pos++] = first;
    return pos;
  }
  buf[pos++] = first | 0x80;
  while (rest >= 128) {
    buf[pos++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  buf[pos++] = rest;
  return pos;
}

export function writeVarlongBig(buf: Uint8Array, pos: number, value: bigint): number {
  let zz = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  while (zz >= 128n) {
    buf[pos++] = Number(zz & 0x7fn) | 0x80;
    zz >>= 7n;
  }
  buf[pos++] = Number(zz);
  return pos;
}

// ---------------------------------------------------------------------------------------
// readers

function truncated(): VarintError {
  return new VarintError(VarintErrorReason.truncated, 'input ends inside a varint');
}

/** Raw 32-bit group decode (shared by varint and unsigned varint). Returns int32 bits. */
function readRaw32(buf: Uint8Array, cur: Cursor, end: number): number {
  let pos = cur.pos;
  let result = 0;
  let shift = 0;
  let b: number;
  do {
    if (shift > 28) {
      throw new VarintError(VarintErrorReason.overlong, `varint longer than ${MAX_VARINT_BYTES} bytes`);
    }
    if (pos >= end) throw truncated();
    b = buf[pos++]!;
    result |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  cur.pos = pos;
  return result;
}

/** Zigzag int32 varint. `end` bounds the read (defaults to the buffer's length). */
export function readVarint(buf: Uint8Array, cur: Cursor, end: number = buf.length): number {
  const raw = readRaw32(buf, cur, end);
  return (raw >>> 1) ^ -(raw & 1);
}

/**
 * Unsigned varint. Returns the value as Kafka does: an int32 (so 0xffffffff reads as -1);
 * use `>>> 0` for the uint32 view.
 */
export function readUnsignedVarint(buf: Uint8Array, cur: Cursor, end: number = buf.length): number {
  return readRaw32(buf, cur, end) | 0;
}

/** Zigzag int64 varlong as a bigint (full range). */
export function readVarlongBig(buf: Uint8Array, cur: Cursor, end: number = buf.length): bigint {
  let pos = cur.pos;
  let result = 0n;
  let shift = 0n;
  let b: number;
  do {
    if (shift > 63n) {
      throw new VarintError(VarintErrorReason.overlong, `varlong longer than ${MAX_VARLONG_BYTES} bytes`);
    }
    if (pos >= end) throw truncated();
    b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while (b & 0x80);
  cur.pos = pos;
  const raw = BigInt.asUintN(64, result);
  return BigInt.asIntN(64, (raw >> 1n) ^ -(raw & 1n));
}

/**
 * Zigzag int64 varlong as a number. Throws VarintError('unsafe-integer') when the value is
 * outside ±(2^53 - 1), which no valid timestamp delta is.
 */
export function readVarlong(buf: Uint8Array, cur: Cursor, end: number = buf.length): number {
  // Fast path: up to 4 bytes (28 bits) fit int32 bit operations.
  const start = cur.pos;
  let pos = start;
  let result = 0;
  let shift = 0;
  let b = 0;
  while (shift < 28) {
    if (pos >= end) throw truncated();
    b = buf[pos++]!;
    result |= (b & 0x7f) << shift;
    shift += 7;
    if ((b & 0x80) === 0) {
      cur.pos = pos;
      return (result >>> 1) ^ -(result & 1);
    }
  }
  // Rare path (|value| >= 2^27): decode exactly with bigint.
  const big = readVarlongBig(buf, cur, end);
  if (big > 9007199254740991n || big < -9007199254740991n) {
    cur.pos = start;
    throw new VarintError(VarintErrorReason.unsafeInteger, `varlong ${big} exceeds Number.MAX_SAFE_INTEGER`);
  }
  return Number(big);
}

// ---------------------------------------------------------------------------------------
// one-shot helpers (tests, tools; the hot paths use the cursor functions above)

export function encodeVarint(value: number): Buffer {
  const out = Buffer.allocUnsafe(sizeOfVarint(value));
  writeVarint(out, 0, value);
  return out;
}

export function encodeUnsignedVarint(value: number): Buffer {
  const out = Buffer.allocUnsafe(sizeOfUnsignedVarint(value));
  writeUnsignedVarint(out, 0, value);
  return out;
}

export function encodeVarlong(value: number | bigint): Buffer {
  if (typeof value === 'bigint') {
    const out = Buffer.allocUnsafe(sizeOfVarlongBig(value));
    writeVarlongBig(out, 0, value);
    return out;
  }
  const out = Buffer.allocUnsafe(sizeOfVarlong(value));
  writeVarlong(out, 0, value);
  return out;
}
