import { describe, expect, it } from 'vitest';
import { mergeAdjacent, type ByteRange } from '../../../lib/storage/segment-store.ts';

const item = (object: string, position: number, length: number, i: number) => ({ r: { object, position, length } as ByteRange, i });
const runsOf = (items: ReturnType<typeof item>[]) => mergeAdjacent(items).map((run) => run.map((x) => x.i));

describe('mergeAdjacent', () => {
  it('answers no runs for no ranges', () => {
    expect(mergeAdjacent([])).toEqual([]);
  });

  it('merges ranges of one object that touch end-to-start into one run, in position order', () => {
    expect(runsOf([item('a', 10, 5, 0), item('a', 0, 10, 1), item('a', 15, 1, 2)])).toEqual([[1, 0, 2]]);
  });

  it('keeps a gap, an overlap or a repeat of the same range as separate runs (never reads bytes twice into one run)', () => {
    expect(runsOf([item('a', 0, 10, 0), item('a', 11, 5, 1)])).toEqual([[0], [1]]); // gap of one byte
    expect(runsOf([item('a', 0, 10, 0), item('a', 5, 10, 1)])).toEqual([[0], [1]]); // overlap
    expect(runsOf([item('a', 0, 10, 0), item('a', 0, 10, 1)])).toEqual([[0], [1]]); // same range twice
  });

  it('never merges ranges of different objects, even when positions line up', () => {
    const runs = mergeAdjacent([item('b', 10, 10, 0), item('a', 0, 10, 1), item('b', 0, 10, 2), item('a', 10, 4, 3)]);
    expect(runs.map((run) => run.map((x) => x.i))).toEqual([[1, 3], [2, 0]]);
    for (const run of runs) expect(new Set(run.map((x) => x.r.object)).size).toBe(1);
  });

  it('keeps every input exactly once, each run one contiguous byte range of one object', () => {
    // a: [0,50) [50,150) [150,200) touch; [300,350) stands alone. b: [0,10) [10,20) touch.
    const items = [item('a', 150, 50, 0), item('b', 10, 10, 1), item('a', 0, 50, 2), item('a', 300, 50, 3), item('b', 0, 10, 4), item('a', 50, 100, 5)];
    const runs = mergeAdjacent(items);
    expect(runs.map((run) => run.map((x) => x.i))).toEqual([[2, 5, 0], [3], [4, 1]]);
    expect(runs.flat()).toHaveLength(items.length);
    for (const run of runs) {
      for (let j = 1; j < run.length; j++) {
        expect(run[j]!.r.object).toBe(run[0]!.r.object);
        expect(run[j]!.r.position).toBe(run[j - 1]!.r.position + run[j - 1]!.r.length);
      }
    }
  });

  it('does not mutate its input', () => {
    const items = [item('a', 10, 5, 0), item('a', 0, 10, 1)];
    const copy = structuredClone(items);
    mergeAdjacent(items);
    expect(items).toEqual(copy);
  });
});
