import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompressionCodec, type CompressionCodecId } from '../../../lib/codec/compression.ts';
import { crc32c } from '../../../lib/codec/crc32c.ts';
import { CorruptBatchError } from '../../../lib/codec/errors.ts';
import {
  type RecordBatch,
  type RecordBatchInput,
  type RecordInput,
  decodeRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
} from '../../../lib/codec/record-batch.ts';

const CODECS: CompressionCodecId[] = [0, 1, 2, 3, 4];

const bytesOrNull = (maxLength: number) => fc.option(fc.uint8Array({ maxLength }), { nil: null, freq: 4 });

const headerArb = fc.record({
  // a small key alphabet makes duplicate keys common; include non-ASCII
  key: fc.oneof(fc.constantFrom('a', 'b', 'trace-id', 'ключ', ''), fc.string({ maxLength: 12 })),
  value: bytesOrNull(20),
});

const recordsArb = (baseTs: number) =>
  fc.array(
    fc.record({
      timestamp: fc.integer({ min: baseTs - 1_000_000, max: baseTs + 1_000_000 }),
      key: bytesOrNull(40),
      value: bytesOrNull(200),
      headers: fc.array(headerArb, { maxLength: 4 }),
    }),
    { maxLength: 12 },
  );

const batchArb: fc.Arbitrary<RecordBatchInput> = fc
  .integer({ min: 0, max: 2 ** 42 })
  .chain((baseTs) =>
    fc.record({
      compression: fc.constantFrom(...CODECS),
      timestampType: fc.constantFrom('CreateTime' as const, 'LogAppendTime' as const),
      isTransactional: fc.boolean(),
      isControl: fc.boolean(),
      producerId: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 2 ** 40 })),
      producerEpoch: fc.integer({ min: -1, max: 32767 }),
      baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
      partitionLeaderEpoch: fc.integer({ min: -1, max: 1000 }),
      records: recordsArb(baseTs),
    }),
  );

const hexOrNull = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('hex'));
const normInput = (r: RecordInput) => ({
  key: hexOrNull(r.key),
  value: hexOrNull(r.value),
  headers: (r.headers ?? []).map((h) => ({ key: h.key, value: hexOrNull(h.value) })),
});
const normDecoded = (b: RecordBatch) => b.records.map((r) => normInput(r));

/** Decoding either throws the typed error or returns a batch; never anything else. */
function tryDecode(bytes: Uint8Array): RecordBatch | CorruptBatchError {
  try {
    return decodeRecordBatch(bytes);
  } catch (err) {
    if (err instanceof CorruptBatchError) return err;
    throw err;
  }
}

describe('RecordBatch v2 properties', () => {
  it('round-trips random batches under every codec (null vs empty, duplicate header keys, negative deltas)', () => {
    fc.assert(
      fc.property(batchArb, (input) => {
        const bytes = encodeRecordBatch(input);
        const b = decodeRecordBatch(bytes);
        const n = input.records.length;
        expect(b).toMatchObject({
          compression: input.compression,
          timestampType: input.timestampType,
          isTransactional: input.isTransactional,
          isControl: input.isControl,
          producerId: input.producerId,
          producerEpoch: input.producerEpoch,
          baseSequence: input.baseSequence,
          partitionLeaderEpoch: input.partitionLeaderEpoch,
          recordCount: n,
          lastOffsetDelta: Math.max(0, n - 1),
          baseOffset: 0,
          sizeInBytes: bytes.length,
        });
        expect(normDecoded(b)).toEqual(input.records.map(normInput));
        expect(b.records.map((r) => r.offsetDelta)).toEqual(input.records.map((_, i) => i));
        const maxTs = n === 0 ? -1 : Math.max(...input.records.map((r) => r.timestamp));
        expect(b.maxTimestamp).toBe(maxTs);
        expect(b.records.map((r) => r.timestamp)).toEqual(
          input.records.map((r) => (input.timestampType === 'LogAppendTime' ? maxTs : r.timestamp)),
        );
        // the decoded form re-encodes to the same bytes (compression is deterministic per process)
        expect(encodeRecordBatch({ ...b, records: b.records })).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('detects any single corrupted byte (bytes 0..7 baseOffset and 12..15 partitionLeaderEpoch are outside the CRC by design)', () => {
    fc.assert(
      fc.property(batchArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (input, at, flip) => {
        const bytes = encodeRecordBatch(input);
        const original = decodeRecordBatch(bytes);
        const i = at % bytes.length;
        const bad = Buffer.from(bytes);
        bad[i]! ^= flip;
        const result = tryDecode(bad);
        if (result instanceof CorruptBatchError) return;
        // Undetected: only possible for the two fields Kafka leaves outside the CRC, and then
        // only that field changed; every record and every other field is intact.
        if (i < 8) {
          expect({ ...result, baseOffset: 0, records: normDecoded(result) }).toEqual({ ...original, records: normDecoded(original) });
          expect(result.baseOffset).not.toBe(0);
        } else if (i >= 12 && i < 16) {
          expect({ ...result, partitionLeaderEpoch: original.partitionLeaderEpoch, records: normDecoded(result) }).toEqual({
            ...original,
            records: normDecoded(original),
          });
        } else {
          expect.fail(`corruption at byte ${i} went undetected`);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects truncation at every length with CorruptBatchError', () => {
    fc.assert(
      fc.property(batchArb, (input) => {
        const bytes = encodeRecordBatch(input);
        for (let k = 0; k < bytes.length; k++) {
          const r = tryDecode(bytes.subarray(0, k));
          expect(r).toBeInstanceOf(CorruptBatchError);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('decodes a chunk of several batches with consecutive offsets, and rejects any cut inside it', () => {
    fc.assert(
      fc.property(fc.array(batchArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 2 ** 40 }), (inputs, base) => {
        const parts = inputs.map((b) => encodeRecordBatch(b));
        const chunk = Buffer.concat(parts);
        const batches = decodeRecordBatches(chunk, { baseOffset: base });
        let next = base;
        batches.forEach((b, i) => {
          expect(b.baseOffset).toBe(next);
          expect(normDecoded(b)).toEqual(inputs[i]!.records.map(normInput));
          next += b.lastOffsetDelta + 1;
        });
        // any cut that is not on a batch boundary is rejected
        const boundaries = new Set<number>();
        parts.reduce((acc, p) => (boundaries.add(acc + p.length), acc + p.length), 0);
        for (let k = 1; k < chunk.length; k += 7) {
          if (boundaries.has(k)) continue;
          expect(() => decodeRecordBatches(chunk.subarray(0, k))).toThrow(CorruptBatchError);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('RecordBatch v2 edge cases', () => {
  const rec = (over: Partial<RecordInput> = {}): RecordInput => ({ timestamp: 1_700_000_000_000, key: null, value: null, headers: [], ...over });

  it('keeps null and empty keys/values distinct', () => {
    const b = decodeRecordBatch(
      encodeRecordBatch({ timestampType: 'CreateTime', compression: CompressionCodec.none, records: [rec(), rec({ key: new Uint8Array(0), value: new Uint8Array(0) })] }),
    );
    expect(b.records[0]).toMatchObject({ key: null, value: null });
    expect(b.records[1]!.key).toEqual(Buffer.alloc(0));
    expect(b.records[1]!.value).toEqual(Buffer.alloc(0));
  });

  it('defaults producer fields to Kafka\'s "none" (-1) and baseTimestamp to the first record', () => {
    const b = decodeRecordBatch(
      encodeRecordBatch({ timestampType: 'CreateTime', records: [rec({ timestamp: 20 }), rec({ timestamp: 10 }), rec({ timestamp: 30 })] }),
    );
    expect(b).toMatchObject({ producerId: -1, producerEpoch: -1, baseSequence: -1, partitionLeaderEpoch: -1, baseTimestamp: 20, maxTimestamp: 30 });
    expect(b.records.map((r) => r.timestampDelta)).toEqual([0, -10, 10]);
  });

  it('keeps explicit offset deltas and a lastOffsetDelta gap (compacted batches)', () => {
    const b = decodeRecordBatch(
      encodeRecordBatch({ timestampType: 'CreateTime', lastOffsetDelta: 9, records: [rec({ offsetDelta: 2 }), rec({ offsetDelta: 5 })] }),
      { baseOffset: 100 },
    );
    expect(b.records.map((r) => r.offset)).toEqual([102, 105]);
    expect(b.lastOffsetDelta).toBe(9);
  });

  it('rejects non-increasing offset deltas and non-integer timestamps at encode time', () => {
    expect(() => encodeRecordBatch({ timestampType: 'CreateTime', records: [rec({ offsetDelta: 1 }), rec({ offsetDelta: 1 })] })).toThrow(RangeError);
    expect(() => encodeRecordBatch({ timestampType: 'CreateTime', records: [rec({ timestamp: 1.5 })] })).toThrow(RangeError);
  });

  it('reports stable reasons for structural damage', () => {
    const bytes = encodeRecordBatch({ timestampType: 'CreateTime', records: [rec({ value: Buffer.from('v') })] });
    const reason = (b: Uint8Array) => (tryDecode(b) as CorruptBatchError).reason;
    const magic = Buffer.from(bytes);
    magic[16] = 1;
    expect(reason(magic)).toBe('bad-magic');
    const crc = Buffer.from(bytes);
    crc[bytes.length - 1]! ^= 1;
    expect(reason(crc)).toBe('crc-mismatch');
    expect(reason(Buffer.concat([bytes, Buffer.from([0])]))).toBe('trailing-bytes');
    expect(reason(bytes.subarray(0, 30))).toBe('truncated');
    const len = Buffer.from(bytes);
    len.writeInt32BE(3, 8);
    expect(reason(len)).toBe('bad-length');
  });

  it('decodes keys and values as views aliasing an uncompressed input', () => {
    const bytes = encodeRecordBatch({ timestampType: 'CreateTime', records: [rec({ key: Buffer.from('k'), value: Buffer.from('value') })] });
    const r = decodeRecordBatch(bytes).records[0]!;
    expect(r.value!.buffer).toBe(bytes.buffer);
  });
});

describe('RecordBatch v2 decoder robustness', () => {
  /** Never any error but CorruptBatchError, whatever the bytes. */
  const decodesOrRejects = (bytes: Uint8Array) => {
    try {
      decodeRecordBatches(bytes);
    } catch (err) {
      expect(err).toBeInstanceOf(CorruptBatchError);
    }
  };

  it('rejects random bytes with the typed error only', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), decodesOrRejects), { numRuns: 1000 });
  });

  it('rejects garbage records behind a valid header and a recomputed CRC (so only structure can catch it)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CODECS), fc.integer({ min: 0, max: 20 }), fc.uint8Array({ maxLength: 200 }), (codec, count, body) => {
        const header = encodeRecordBatch({ timestampType: 'CreateTime', compression: codec, records: [] }).subarray(0, 61);
        const bytes = Buffer.concat([header, body]);
        bytes.writeInt32BE(bytes.length - 12, 8);
        bytes.writeInt32BE(count, 57);
        bytes.writeUInt32BE(crc32c(bytes.subarray(21)), 17);
        decodesOrRejects(bytes);
      }),
      { numRuns: 1000 },
    );
  });
});
