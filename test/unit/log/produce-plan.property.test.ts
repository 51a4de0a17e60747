/**
 * The pure produce plan (lib/log/produce-plan.ts): grouping by partition (G1-G4) and the
 * offsets answered (O1), over random requests.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { offsetsInRequestOrder, planChunks, timestampRange } from '../../../lib/log/produce-plan.ts';

const request = fc.array(
  fc.record({ partition: fc.integer({ min: 0, max: 40 }), budgetBytes: fc.integer({ min: 0, max: 2_000 }) }),
  { minLength: 1, maxLength: 200 },
).map((rs) => rs.map((r, i) => ({ ...r, record: { id: i } })));

describe('planChunks', () => {
  it('puts every record in exactly its partition chunk, in request order, chunks by first appearance (G1-G3)', () => {
    fc.assert(
      fc.property(request, (records) => {
        const chunks = planChunks(records, 1_000);
        const seen = chunks.flatMap((c) => c.indexes);
        expect([...seen].sort((a, b) => a - b)).toEqual(records.map((_, i) => i));
        for (const c of chunks) {
          expect(c.indexes.every((i) => records[i]!.partition === c.partition)).toBe(true);
          expect([...c.indexes]).toEqual([...c.indexes].sort((a, b) => a - b));
          expect(c.records).toEqual(c.indexes.map((i) => records[i]!.record));
          expect(c.budgetBytes).toBe(c.indexes.reduce((n, i) => n + records[i]!.budgetBytes, 0));
        }
        const firstSeen = [...new Set(records.map((r) => r.partition))];
        expect(chunks.map((c) => c.partition)).toEqual(firstSeen);
      }),
    );
  });

  it('refuses more partitions than the cap, and accepts exactly the cap (G4)', () => {
    fc.assert(
      fc.property(request, fc.integer({ min: 1, max: 41 }), (records, cap) => {
        const distinct = new Set(records.map((r) => r.partition)).size;
        if (distinct > cap) {
          expect(() => planChunks(records, cap)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST', details: { maxPartitionsPerRequest: cap } }));
        } else {
          expect(planChunks(records, cap)).toHaveLength(distinct);
        }
      }),
    );
  });
});

describe('offsetsInRequestOrder', () => {
  it('answers one offset per record, consecutive per partition from its base, in request order (O1)', () => {
    fc.assert(
      fc.property(request, fc.dictionary(fc.integer({ min: 0, max: 40 }).map(String), fc.nat(1e9)), (records, bases) => {
        const baseOf = (p: number) => bases[String(p)] ?? p * 1000;
        const offsets = offsetsInRequestOrder(records, baseOf);
        expect(offsets.map((o) => o.partition)).toEqual(records.map((r) => r.partition));
        const byPartition = new Map<number, number[]>();
        for (const o of offsets) byPartition.set(o.partition, [...(byPartition.get(o.partition) ?? []), o.offset]);
        for (const [p, list] of byPartition) expect(list).toEqual(list.map((_, i) => baseOf(p) + i));
      }),
    );
  });
});

describe('timestampRange', () => {
  it('is the min and max of the records', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 1 }), (ts) => {
        expect(timestampRange(ts.map((timestamp) => ({ timestamp })))).toEqual({ min: Math.min(...ts), max: Math.max(...ts) });
      }),
    );
  });
});
