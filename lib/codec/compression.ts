/**
 * Compression codecs for RecordBatch v2, by Kafka's attribute id (bits 0..2 of attributes).
 * Ids are on-disk and on-wire values: stable, never renumber.
 *
 *   0 none
 *   1 gzip    RFC 1952 stream (node:zlib)
 *   2 snappy  written in xerial framing, as Kafka's Java client does:
 *               "\x82SNAPPY\x00" | version int32 BE (1) | min-compatible int32 BE (1)
 *               then blocks: length int32 BE | raw snappy block (each ≤ 32 KiB uncompressed)
 *             read: xerial-framed or a single raw snappy block (librdkafka/older clients)
 *   3 lz4     LZ4 *frame* format (magic 04 22 4D 18), lz4-napi (lz4_flex)
 *   4 zstd    zstd frame; node:zlib's zstd where present (Node >= 22.15), else zstd-napi
 *
 * Spec: apache/kafka CompressionType.java, SnappyFactory/KafkaLZ4BlockOutputStream; the sarama
 * goldens in test/unit/codec/vectors use xerial snappy and frame lz4.
 *
 * snappy, lz4-napi and zstd-napi are optional dependencies: an install where one fails to build
 * or download still succeeds, and gzip, none and (on Node >= 22.15) zstd need none of them.
 * Native modules are loaded lazily on first use, so a Lambda that never sees snappy never pays
 * for loading it at cold start; one that does not load throws CodecUnavailableError, naming the
 * codec and the package, on every use of that codec (the first failure is remembered).
 */

import { createRequire } from 'node:module';
import zlib from 'node:zlib';

export const CompressionCodec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionName = keyof typeof CompressionCodec;
export type CompressionCodecId = (typeof CompressionCodec)[CompressionName];

const NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** Refuse to inflate a batch past this (a corrupt or hostile length must not exhaust memory). */
export const MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

/** Snappy xerial framing constants (snappy-java SnappyCodec / SnappyOutputStream). */
export const XERIAL_SNAPPY_MAGIC: Buffer = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
const XERIAL_BLOCK_BYTES = 32 * 1024;

export function isCompressionCodecId(id: number): id is CompressionCodecId {
  return Number.isInteger(id) && id >= 0 && id <= 4;
}

export function compressionFromName(name: string): CompressionCodecId {
  const id = (CompressionCodec as Record<string, CompressionCodecId | undefined>)[name.toLowerCase()];
  if (id === undefined) throw new RangeError(`unknown compression codec "${name}"`);
  return id;
}

export function compressionName(id: CompressionCodecId): CompressionName {
  const name = NAMES[id];
  if (name === undefined) throw new RangeError(`unknown compression codec id ${id}`);
  return name;
}

// ---------------------------------------------------------------------------------------
// lazy native bindings

interface SnappyLib {
  compressSync(input: Uint8Array): Buffer;
  uncompressSync(input: Uint8Array, opts: { asBuffer: true; }): Buffer | string;
}
interface Lz4Lib {
  compressFrameSync(input: Buffer): Buffer;
  uncompressSync(input: Uint8Array): Buffer;
}
interface ZstdLib {
  compress(input: Uint8Array, params?: { compressionLevel?: number; }): Buffer;
  decompress(input: Uint8Array): Buffer;
}
interface ZlibZstd {
  zstdCompressSync(input: Uint8Array): Buffer;
  zstdDecompressSync(input: Uint8Array, opts?: { maxOutputLength?: number; }): Buffer;
}

/**
 * A codec whose implementation cannot load in this process (an optional native package not
 * installed, or built for another platform). Never a sign of bad data: the batch decoder lets
 * it through unwrapped (it is not a CorruptBatchError), and the log layer answers it as
 * UNKNOWN_SERVER_ERROR naming the codec and the package (CodecUnavailableServerError), on
 * produce and on fetch alike.
 */
export class CodecUnavailableError extends Error {
  override readonly name = 'CodecUnavailableError';
  readonly codec: CompressionName;
  /** The npm package that did not load. */
  readonly packageName: string;
  constructor(codec: CompressionName, packageName: string, detail: string, options?: { cause?: unknown; }) {
    super(
      `compression codec ${codec} is unavailable: the optional package "${packageName}" did not load ` +
        `(${detail}). Install it (npm install ${packageName}), or give the topic another ` +
        `compression.type (gzip and none always work).`,
      options,
    );
    this.codec = codec;
    this.packageName = packageName;
  }
}

const require = createRequire(import.meta.url);

/** How native packages are loaded: `require` beside this module (or the Lambda bundle). */
let nativeRequire: (id: string) => unknown = require;
const forgetLoaded: (() => void)[] = [];

/**
 * Tests only: load native codec packages with `load` instead of `require` (e.g. one that
 * throws "Cannot find module" for `snappy`, as a bundle without it does), or restore `require`
 * with no argument. Every loader forgets what it loaded or failed to load.
 */
export function setNativeRequireForTests(load?: (id: string) => unknown): void {
  nativeRequire = load ?? require;
  for (const forget of forgetLoaded) forget();
}

/** Loads `packageName` once; a failure is remembered and rethrown as CodecUnavailableError. */
export function optionalNative<T>(codec: CompressionName, packageName: string, hint = ''): () => T {
  let lib: T | undefined;
  let failure: CodecUnavailableError | undefined;
  forgetLoaded.push(() => {
    lib = undefined;
    failure = undefined;
  });
  return () => {
    if (lib !== undefined) return lib;
    if (failure !== undefined) throw failure;
    try {
      return (lib = nativeRequire(packageName) as T);
    } catch (err) {
      const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
      failure = new CodecUnavailableError(codec, packageName, reason + hint, { cause: err });
      throw failure;
    }
  };
}

const snappy = optionalNative<SnappyLib>('snappy', 'snappy');
const lz4 = optionalNative<Lz4Lib>('lz4', 'lz4-napi');
const zstd = optionalNative<ZstdLib>('zstd', 'zstd-napi', '; Node >= 22.15 has zstd built in');

const zlibZstd: ZlibZstd | undefined =
  typeof (zlib as unknown as Partial<ZlibZstd>).zstdCompressSync === 'function'
    ? (zlib as unknown as ZlibZstd)
    : undefined;
/** Which zstd implementation is in use (for BENCHMARKS.md and diagnostics). */
export const zstdImplementation: 'node:zlib' | 'zstd-napi' = zlibZstd ? 'node:zlib' : 'zstd-napi';

/**
 * Why `codec` does not work in this process, or undefined when its implementation loads and
 * round-trips a byte. A Lambda bundle without a native module (and without node:zlib zstd)
 * gets the CodecUnavailableError message.
 */
export function codecUnavailableReason(codec: CompressionCodecId): string | undefined {
  try {
    const probe = Buffer.from([42]);
    return decompress(codec, compress(codec, probe)).equals(probe) ? undefined : 'round trip changed the bytes';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Whether `codec` works in this process (see codecUnavailableReason). */
export function codecAvailable(codec: CompressionCodecId): boolean {
  return codecUnavailableReason(codec) === undefined;
}

/** Kafka's default zstd level (compression.zstd.level = 3). */
const ZSTD_LEVEL = 3;

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

// ---------------------------------------------------------------------------------------
// snappy xerial framing

function snappyXerialCompress(data: Uint8Array): Buffer {
  const lib = snappy();
  const blocks: Buffer[] = [];
  let total = XERIAL_HEADER_BYTES;
  for (let off = 0; off < data.length; off += XERIAL_BLOCK_BYTES) {
    const block = lib.compressSync(data.subarray(off, Math.min(off + XERIAL_BLOCK_BYTES, data.length)));
    blocks.push(block);
    total += 4 + block.length;
  }
  const out = Buffer.allocUnsafe(total);
  XERIAL_SNAPPY_MAGIC.copy(out, 0);
  out.writeInt32BE(1, 8); // version
  out.writeInt32BE(1, 12); // minimum compatible version
  let pos = XERIAL_HEADER_BYTES;
  for (const block of blocks) {
    out.writeInt32BE(block.length, pos);
    block.copy(out, pos + 4);
    pos += 4 + block.length;
  }
  return out;
}

function isXerialFramed(data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER_BYTES) return false;
  for (let i = 0; i < 8; i++) if (data[i] !== XERIAL_SNAPPY_MAGIC[i]) return false;
  return true;
}

function snappyUncompressBlock(block: Uint8Array): Buffer {
  const out = snappy().uncompressSync(block, { asBuffer: true });
  return typeof out === 'string' ? Buffer.from(out) : out;
}

function snappyDecompress(data: Uint8Array, maxOutput: number): Buffer {
  if (!isXerialFramed(data)) return snappyUncompressBlock(data);
  const buf = asBuffer(data);
  const parts: Buffer[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_BYTES;
  while (pos < buf.length) {
    if (pos + 4 > buf.length) throw new Error('xerial snappy: truncated block length');
    const len = buf.readInt32BE(pos);
    pos += 4;
    if (len < 0 || pos + len > buf.length) throw new Error('xerial snappy: block exceeds input');
    const part = snappyUncompressBlock(buf.subarray(pos, pos + len));
    total += part.length;
    if (total > maxOutput) throw new Error(`snappy: output exceeds ${maxOutput} bytes`);
    parts.push(part);
    pos += len;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

// ---------------------------------------------------------------------------------------
// lz4 frame reader (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md)
//
// Why not lz4-napi's decompressFrameSync: on the bench machine it inflates at ~350 MB/s while
// its block decoder runs at ~1,200 MB/s, so we parse the frame here and hand each block to the
// block decoder. Header, block and content checksums (xxHash32) are skipped, not verified:
// the batch's CRC-32C already covered these exact compressed bytes before we got here.
//
//   frame: magic 04 22 4D 18 (LE 0x184D2204) | FLG | BD | [contentSize u64] | [dictId u32] | HC
//          blocks: size u32 LE (high bit = stored uncompressed; 0 = end mark) | data | [checksum u32]
//          [content checksum u32]
//   skippable frames (magic 0x184D2A5?) are skipped; several frames may be concatenated.

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024] as const;

function lz4FrameDecompress(data: Uint8Array, maxOutput: number): Buffer {
  const buf = asBuffer(data);
  const len = buf.length;
  const parts: Buffer[] = [];
  let total = 0;
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > len) throw new Error('lz4 frame: truncated');
  };
  do {
    need(4);
    const magic = buf.readUInt32LE(pos);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      need(8);
      pos += 8 + buf.readUInt32LE(pos + 4);
      continue;
    }
    if (magic !== LZ4_MAGIC) throw new Error(`lz4 frame: bad magic 0x${magic.toString(16)}`);
    need(7);
    const flg = buf[pos + 4]!;
    const bd = buf[pos + 5]!;
    if (flg >> 6 !== 1) throw new Error(`lz4 frame: unsupported version ${flg >> 6}`);
    if (flg & 0x01) throw new Error('lz4 frame: dictionary frames are not supported');
    const blockMax = LZ4_BLOCK_MAX[(bd >> 4) & 7]!;
    if (blockMax === 0) throw new Error(`lz4 frame: bad block size code in BD 0x${bd.toString(16)}`);
    const blockChecksum = (flg & 0x10) !== 0;
    pos += 6 + (flg & 0x08 ? 8 : 0) + 1;
    for (;;) {
      need(4);
      const word = buf.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break;
      const n = word & 0x7fffffff;
      if (n > blockMax) throw new Error('lz4 frame: block larger than the declared maximum');
      need(n);
      let out: Buffer;
      if (word & 0x80000000) {
        out = buf.subarray(pos, pos + n);
      } else {
        // lz4-napi's block API expects the output size prepended (a bound is enough).
        const tmp = Buffer.allocUnsafe(4 + n);
        tmp.writeUInt32LE(blockMax, 0);
        buf.copy(tmp, 4, pos, pos + n);
        out = lz4().uncompressSync(tmp);
      }
      pos += n + (blockChecksum ? 4 : 0);
      total += out.length;
      if (total > maxOutput) throw new Error(`lz4: output exceeds ${maxOutput} bytes`);
      parts.push(out);
    }
    if (flg & 0x04) pos += 4; // content checksum
    if (pos > len) throw new Error('lz4 frame: truncated');
  } while (pos < len);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

// ---------------------------------------------------------------------------------------
// public API

/** Compress `data` with the codec. `none` returns the same bytes (as a Buffer view). */
export function compress(codec: CompressionCodecId, data: Uint8Array): Buffer {
  switch (codec) {
    case CompressionCodec.none:
      return asBuffer(data);
    case CompressionCodec.gzip:
      return zlib.gzipSync(data);
    case CompressionCodec.snappy:
      return snappyXerialCompress(data);
    case CompressionCodec.lz4:
      return lz4().compressFrameSync(asBuffer(data));
    case CompressionCodec.zstd:
      return zlibZstd ? zlibZstd.zstdCompressSync(data) : zstd().compress(data, { compressionLevel: ZSTD_LEVEL });
    default:
      throw new RangeError(`unknown compression codec id ${String(codec)}`);
  }
}

/**
 * Decompress `data`. Throws (a plain Error from the codec) on malformed input or when the
 * output would exceed `maxOutput` bytes; the batch decoder turns that into CorruptBatchError.
 * Throws CodecUnavailableError when the codec's package does not load (not corruption).
 */
export function decompress(codec: CompressionCodecId, data: Uint8Array, maxOutput = MAX_DECOMPRESSED_BYTES): Buffer {
  let out: Buffer;
  switch (codec) {
    case CompressionCodec.none:
      out = asBuffer(data);
      break;
    case CompressionCodec.gzip:
      out = zlib.gunzipSync(data, { maxOutputLength: maxOutput });
      break;
    case CompressionCodec.snappy:
      out = snappyDecompress(data, maxOutput);
      break;
    case CompressionCodec.lz4:
      out = lz4FrameDecompress(data, maxOutput);
      break;
    case CompressionCodec.zstd:
      out = zlibZstd ? zlibZstd.zstdDecompressSync(data, { maxOutputLength: maxOutput }) : zstd().decompress(data);
      break;
    default:
      throw new RangeError(`unknown compression codec id ${String(codec)}`);
  }
  if (out.length > maxOutput) throw new Error(`decompressed size ${out.length} exceeds ${maxOutput} bytes`);
  return out;
}
