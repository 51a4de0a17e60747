/**
 * The read session's poll loop (lib/log/read-session.ts) over an in-memory log: what it yields
 * below and at the high watermark, how a commit, the poll interval, the deadline and an abort
 * end its wait. Storage behaviour is covered by the integration tests of fetch.
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../lib/deps.ts';
import { CommitSignal } from '../../../lib/log/commit-signal.ts';
import type { StableView } from '../../../lib/log/partition-index.ts';
import { readSession, type ReadBatch, type SessionReader } from '../../../lib/log/read-session.ts';
import { OffsetOutOfRangeError } from '../../../lib/errors.ts';

const tp = { topicId: 't-1', partition: 0 };

/** A log of `hwm` records, 2 per batch at most; `reads` counts the reads. */
function memoryLog(initial: number) {
  const state = { hwm: initial, reads: 0 };
  const reader: SessionReader = {
    view: async () => ({ tp, highWatermark: state.hwm, logStartOffset: 0 }) as unknown as StableView,
    read: async (view, offset): Promise<ReadBatch> => {
      state.reads++;
      if (offset > view.highWatermark) throw new OffsetOutOfRangeError(offset, 0, view.highWatermark);
      const end = Math.min(view.highWatermark, offset + 2);
      const records = Array.from({ length: end - offset }, (_, i) => ({ partition: 0, offset: offset + i, timestamp: 0, key: null, value: Buffer.from(String(offset + i)), headers: [] }));
      return { partition: 0, records, nextOffset: end, highWatermark: view.highWatermark, logStartOffset: 0 };
    },
  };
  return { state, reader };
}

async function collect(gen: AsyncIterable<ReadBatch>): Promise<ReadBatch[]> {
  const out: ReadBatch[] = [];
  for await (const b of gen) out.push(b);
  return out;
}

const deps = (commits = new CommitSignal(), pollIntervalMs = 1_000) => ({ clock: systemClock, commits, pollIntervalMs });

describe('read session', () => {
  it('yields batches without waiting below the high watermark, then one empty batch when the wait is over', async () => {
    const { reader } = memoryLog(5);
    const batches = await collect(readSession(deps(), reader, tp, 0, { deadline: Date.now() }));
    expect(batches.map((b) => b.records.map((r) => r.offset))).toEqual([[0, 1], [2, 3], [4], []]);
    expect(batches.map((b) => b.nextOffset)).toEqual([2, 4, 5, 5]);
    expect(batches.at(-1)).toMatchObject({ records: [], nextOffset: 5, highWatermark: 5 });
  });

  it('waits at the high watermark until a commit in this process wakes it', async () => {
    const commits = new CommitSignal();
    const { state, reader } = memoryLog(1);
    const session = readSession(deps(commits), reader, tp, 'latest', { deadline: Date.now() + 5_000 });
    const started = Date.now();
    setTimeout(() => {
      state.hwm = 2;
      commits.notify(tp);
    }, 50);
    const first = await session.next();
    expect(first.value).toMatchObject({ records: [{ offset: 1 }], nextOffset: 2 });
    expect(Date.now() - started).toBeLessThan(1_000);
    await session.return();
  });

  it('re-reads every poll interval for commits of other instances', async () => {
    const { state, reader } = memoryLog(0);
    const session = readSession(deps(new CommitSignal(), 20), reader, tp, 0, { deadline: Date.now() + 5_000 });
    setTimeout(() => {
      state.hwm = 1; // no notify: another instance committed
    }, 60);
    expect((await session.next()).value).toMatchObject({ records: [{ offset: 0 }] });
    expect(state.reads).toBeGreaterThanOrEqual(2);
    await session.return();
  });

  it('ends at its deadline with an empty batch at the high watermark', async () => {
    const { state, reader } = memoryLog(3);
    const started = Date.now();
    const batches = await collect(readSession(deps(new CommitSignal(), 30), reader, tp, 3, { deadline: Date.now() + 120 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    expect(batches).toEqual([{ partition: 0, records: [], nextOffset: 3, highWatermark: 3, logStartOffset: 0 }]);
    expect(state.reads).toBeLessThanOrEqual(6); // 120 ms / 30 ms poll, plus the first read
  });

  it('an abort ends the wait at once, answering with the last read instead of reading again', async () => {
    const { state, reader } = memoryLog(2);
    const abort = new AbortController();
    const session = readSession(deps(), reader, tp, 2, { deadline: Date.now() + 10_000, signal: abort.signal });
    setTimeout(() => abort.abort(), 30);
    const started = Date.now();
    const batches = await collect(session);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(batches).toEqual([{ partition: 0, records: [], nextOffset: 2, highWatermark: 2, logStartOffset: 0 }]);
    expect(state.reads).toBe(1);
  });

  it("resolves 'earliest' and 'latest' once, on the first view", async () => {
    const commits = new CommitSignal();
    const { state, reader } = memoryLog(4);
    const session = readSession(deps(commits), reader, tp, 'latest', { deadline: Date.now() + 5_000 });
    setTimeout(() => {
      state.hwm = 6;
      commits.notify(tp);
    }, 20);
    expect((await session.next()).value).toMatchObject({ records: [{ offset: 4 }, { offset: 5 }] });
    await session.return();
    expect((await collect(readSession(deps(), reader, tp, 'earliest', { deadline: 0 })))[0]!.records[0]).toMatchObject({ offset: 0 });
  });

  it('throws what the read throws (out of range) and ends', async () => {
    const { reader } = memoryLog(2);
    await expect(collect(readSession(deps(), reader, tp, 7, { deadline: 0 }))).rejects.toBeInstanceOf(OffsetOutOfRangeError);
  });
});
