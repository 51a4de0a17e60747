import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  CompressionCodec,
  XERIAL_SNAPPY_MAGIC,
  compress,
  compressionFromName,
  compressionName,
  decompress,
} from '../../../lib/codec/compression.ts';

const require = createRequire(import.meta.url);
const CODECS = Object.values(CompressionCodec);

describe('compression codecs', () => {
  it('maps names and ids (stable Kafka ids)', () => {
    expect(CompressionCodec).toEqual({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 });
    expect(compressionFromName('zstd')).toBe(4);
    expect(compressionFromName('GZIP')).toBe(1);
    expect(compressionName(2)).toBe('snappy');
    expect(() => compressionFromName('brotli')).toThrow(RangeError);
  });

  it.each(CODECS)('round-trips random bytes with codec %i', (codec) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (data) => {
        expect(decompress(codec, compress(codec, data))).toEqual(Buffer.from(data));
      }),
      { numRuns: 60 },
    );
  });

  it('writes snappy in xerial framing with 32 KiB blocks, like the Java client', () => {
    const data = Buffer.alloc(100_000, 'abc');
    const out = compress(CompressionCodec.snappy, data);
    expect(out.subarray(0, 8)).toEqual(XERIAL_SNAPPY_MAGIC);
    expect(out.readInt32BE(8)).toBe(1);
    expect(out.readInt32BE(12)).toBe(1);
    expect(decompress(CompressionCodec.snappy, out).equals(data)).toBe(true);
  });

  it('reads raw (unframed) snappy too', () => {
    const data = Buffer.from('raw snappy block from a non-Java client '.repeat(20));
    const raw = (require('snappy') as { compressSync(b: Uint8Array): Buffer; }).compressSync(data);
    expect(decompress(CompressionCodec.snappy, raw)).toEqual(data);
  });

  it('writes lz4 in the frame format Kafka expects (magic 04 22 4D 18)', () => {
    expect(compress(CompressionCodec.lz4, Buffer.from('x')).subarray(0, 4).toString('hex')).toBe('04224d18');
  });

  it('reads lz4 frames from other writers: multi-block, checksummed, stored blocks, concatenated', () => {
    const lz4 = require('lz4-napi') as { compressFrameSync(b: Uint8Array, o?: { contentChecksum?: boolean; blockChecksums?: boolean; }): Buffer; };
    let s = 7;
    const noise = Buffer.alloc(300_000).map(() => (s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 24); // incompressible
    const text = Buffer.from('kafka '.repeat(150_000));
    for (const data of [noise, text, Buffer.alloc(0)]) {
      for (const opts of [{}, { contentChecksum: true, blockChecksums: true }]) {
        const frame = lz4.compressFrameSync(data, opts);
        expect(decompress(CompressionCodec.lz4, frame).equals(data)).toBe(true);
      }
    }
    const two = Buffer.concat([lz4.compressFrameSync(text), lz4.compressFrameSync(noise)]);
    expect(decompress(CompressionCodec.lz4, two).equals(Buffer.concat([text, noise]))).toBe(true);
  });

  it('rejects truncated lz4 frames', () => {
    const frame = compress(CompressionCodec.lz4, Buffer.from('kafka '.repeat(1000)));
    for (let k = 0; k < frame.length; k++) expect(() => decompress(CompressionCodec.lz4, frame.subarray(0, k))).toThrow();
  });

  it('reads a zstd frame without a content size (streaming writers such as zstd-jni)', async () => {
    const zstd = require('zstd-napi') as { CompressStream: new () => NodeJS.ReadWriteStream; };
    const data = Buffer.from('streamed '.repeat(1000));
    const stream = new zstd.CompressStream();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise((resolve) => stream.on('end', resolve));
    stream.end(data);
    await done;
    expect(decompress(CompressionCodec.zstd, Buffer.concat(chunks)).equals(data)).toBe(true);
  });

  it('refuses to inflate past the output limit', () => {
    const bomb = gzipSync(Buffer.alloc(1_000_000));
    expect(() => decompress(CompressionCodec.gzip, bomb, 1000)).toThrow();
    for (const codec of [CompressionCodec.snappy, CompressionCodec.lz4, CompressionCodec.zstd]) {
      expect(() => decompress(codec, compress(codec, Buffer.alloc(100_000)), 1000)).toThrow();
    }
  });

  it('throws on garbage input for every codec', () => {
    const junk = Buffer.from('definitely not compressed data');
    for (const codec of [CompressionCodec.gzip, CompressionCodec.snappy, CompressionCodec.lz4, CompressionCodec.zstd]) {
      expect(() => decompress(codec, junk)).toThrow();
    }
  });
});
