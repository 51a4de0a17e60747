import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptSegmentError } from '../../../lib/codec/errors.ts';
import { decodeRecordBatches, encodeRecordBatch } from '../../../lib/codec/record-batch.ts';
import {
  SEGMENT_TRAILER_BYTES,
  type SegmentChunkInput,
  decodeSegmentFooter,
  encodeSegment,
  sliceChunk,
  verifyChunk,
} from '../../../lib/codec/segment.ts';

const TOPIC_A = '3f1e2d4c-5b6a-4978-8695-a4b3c2d1e0f9';
const TOPIC_B = '0d9c8b7a-6958-4473-8291-0a1b2c3d4e5f';

function chunk(topicId: string, partition: number, values: string[], batches = 1): SegmentChunkInput {
  const parts = [];
  for (let b = 0; b < batches; b++) {
    parts.push(
      encodeRecordBatch({
        timestampType: 'CreateTime',
        compression: b % 2 === 0 ? 0 : 4,
        records: values.map((v, i) => ({ timestamp: 1_000 + i, key: null, value: Buffer.from(v), headers: [] })),
      }),
    );
  }
  return { topicId, partition, batches: Buffer.concat(parts), recordCount: values.length * batches, minTimestamp: 1_000, maxTimestamp: 999 + values.length };
}

describe('segment object', () => {
  const input = [chunk(TOPIC_A, 0, ['a', 'b']), chunk(TOPIC_A, 7, ['c'], 3), chunk(TOPIC_B, 2, ['d', 'e', 'f'])];
  const { bytes, chunks } = encodeSegment(input);

  it('lays chunks out contiguously from byte 0 and returns their locations', () => {
    let offset = 0;
    chunks.forEach((loc, i) => {
      expect(loc).toMatchObject({ topicId: input[i]!.topicId, partition: input[i]!.partition, byteOffset: offset, byteLength: input[i]!.batches.length });
      expect(sliceChunk(bytes, loc)).toEqual(input[i]!.batches);
      offset += loc.byteLength;
    });
  });

  it('lets a reader decode one chunk from its byte range alone', () => {
    const loc = chunks[1]!;
    const ranged = Buffer.from(bytes.subarray(loc.byteOffset, loc.byteOffset + loc.byteLength)); // as a ranged GET returns it
    const batches = decodeRecordBatches(ranged, { baseOffset: 500 });
    expect(batches.map((b) => b.baseOffset)).toEqual([500, 501, 502]);
    expect(batches.flatMap((b) => b.records.map((r) => r.value!.toString()))).toEqual(['c', 'c', 'c']);
    expect(verifyChunk(ranged, loc)).toBe(true);
  });

  it('reads the footer from the whole object or from any tail that contains it', () => {
    const whole = decodeSegmentFooter(bytes);
    expect(whole).toEqual({
      complete: true,
      footer: expect.objectContaining({ version: 1, objectSize: bytes.length, chunks }),
    });
    if (!whole.complete) throw new Error('unreachable');
    const need = whole.footer.footerLength + SEGMENT_TRAILER_BYTES;
    expect(decodeSegmentFooter(bytes.subarray(bytes.length - need))).toEqual(whole);
  });

  it('says how many tail bytes it needs when given too few', () => {
    expect(decodeSegmentFooter(bytes.subarray(bytes.length - 5))).toEqual({ complete: false, bytesNeeded: SEGMENT_TRAILER_BYTES });
    const first = decodeSegmentFooter(bytes.subarray(bytes.length - SEGMENT_TRAILER_BYTES));
    expect(first.complete).toBe(false);
    if (first.complete) throw new Error('unreachable');
    const second = decodeSegmentFooter(bytes.subarray(bytes.length - first.bytesNeeded));
    expect(second.complete).toBe(true);
  });

  it('detects corruption of the footer or trailer', () => {
    const tailStart = bytes.length - (decodeSegmentFooter(bytes) as { footer: { footerLength: number; }; }).footer.footerLength - SEGMENT_TRAILER_BYTES;
    for (let i = tailStart; i < bytes.length; i++) {
      const bad = Buffer.from(bytes);
      bad[i]! ^= 0x40;
      let result: unknown;
      try {
        result = decodeSegmentFooter(bad);
      } catch (err) {
        expect(err).toBeInstanceOf(CorruptSegmentError);
        continue;
      }
      // a damaged footerLength can only make the decoder ask for more bytes than exist
      expect(result).toMatchObject({ complete: false });
      expect((result as { bytesNeeded: number; }).bytesNeeded).toBeGreaterThan(bytes.length);
    }
  });

  it('detects a corrupted chunk via its footer CRC', () => {
    const bad = Buffer.from(bytes);
    bad[chunks[0]!.byteOffset + 13]! ^= 1; // partitionLeaderEpoch: outside the batch CRC
    expect(verifyChunk(sliceChunk(bad, chunks[0]!), chunks[0]!)).toBe(false);
  });

  it('rejects chunks that are not whole batches or whose record count is wrong', () => {
    const c = chunk(TOPIC_A, 0, ['a']);
    expect(() => encodeSegment([{ ...c, batches: c.batches.subarray(0, c.batches.length - 1) }])).toThrow(RangeError);
    expect(() => encodeSegment([{ ...c, recordCount: 2 }])).toThrow(RangeError);
    expect(() => encodeSegment([{ ...c, partition: -1 }])).toThrow(RangeError);
  });

  it('encodes an empty segment (footer only)', () => {
    const empty = encodeSegment([]);
    expect(empty.bytes.length).toBe(12 + SEGMENT_TRAILER_BYTES);
    expect(decodeSegmentFooter(empty.bytes)).toMatchObject({ complete: true, footer: { chunks: [] } });
  });

  it('round-trips random chunk sets', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            topicId: fc.uuid(),
            partition: fc.integer({ min: 0, max: 10_000 }),
            values: fc.array(fc.string({ maxLength: 30 }), { minLength: 1, maxLength: 5 }),
          }),
          { maxLength: 20 },
        ),
        (specs) => {
          const seg = encodeSegment(specs.map((s) => chunk(s.topicId, s.partition, s.values)));
          const res = decodeSegmentFooter(seg.bytes);
          expect(res).toMatchObject({ complete: true, footer: { chunks: seg.chunks } });
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('segment object version 2 (chunk offsets, for per-partition segments)', () => {
  const withOffsets = (c: SegmentChunkInput, base: number, end = base + c.recordCount): SegmentChunkInput => ({ ...c, baseOffset: base, endOffset: end });

  it('round-trips every chunk offset range, so a partition index can be rebuilt from the object', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.nat(3)), { minLength: 1, maxLength: 8 }), (specs) => {
        let base = 1_000;
        const input = specs.map(([records, gap]) => {
          const c = withOffsets(chunk(TOPIC_A, 3, Array.from({ length: records }, (_, i) => `v${i}`)), base, base + records + gap);
          base += records + gap;
          return c;
        });
        const { bytes, chunks } = encodeSegment(input);
        const decoded = decodeSegmentFooter(bytes);
        if (!decoded.complete) throw new Error('whole object given');
        expect(decoded.footer.version).toBe(2);
        expect(decoded.footer.chunks).toEqual(chunks);
        expect(decoded.footer.chunks.map((c) => [c.baseOffset, c.endOffset])).toEqual(input.map((c) => [c.baseOffset, c.endOffset]));
        // Each chunk still decodes from its byte range alone.
        const first = decoded.footer.chunks[0]!;
        expect(decodeRecordBatches(sliceChunk(bytes, first), { baseOffset: first.baseOffset! })[0]!.baseOffset).toBe(1_000);
      }),
    );
  });

  it('keeps writing version 1 when no chunk has offsets (a produce)', () => {
    const { bytes } = encodeSegment([chunk(TOPIC_A, 0, ['a'])]);
    const decoded = decodeSegmentFooter(bytes);
    expect(decoded.complete && decoded.footer.version).toBe(1);
    expect(decoded.complete && decoded.footer.chunks[0]).not.toHaveProperty('baseOffset');
  });

  it('refuses offsets on some chunks only, or a range smaller than the records', () => {
    const a = chunk(TOPIC_A, 0, ['a', 'b']);
    expect(() => encodeSegment([withOffsets(a, 0), a])).toThrow(RangeError);
    expect(() => encodeSegment([withOffsets(a, 5, 6)])).toThrow(RangeError);
    expect(() => encodeSegment([withOffsets(a, -1)])).toThrow(RangeError);
  });

  it('rejects an unknown version', () => {
    const { bytes } = encodeSegment([withOffsets(chunk(TOPIC_A, 0, ['a']), 0)]);
    const copy = Buffer.from(bytes);
    copy.writeUInt16BE(3, copy.length - 8);
    expect(() => decodeSegmentFooter(copy)).toThrow(CorruptSegmentError);
  });
});
