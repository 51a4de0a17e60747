/** A run's summary and its lines count the Durable Streams sweep's changes (lib/maintenance/summary.ts, report-text.ts). */
import { describe, expect, it } from 'vitest';
import type { TickReport } from '../../../lib/maintenance/maintenance.ts';
import { runLine, summaryLine } from '../../../lib/maintenance/report-text.ts';
import { summarise } from '../../../lib/maintenance/summary.ts';

const idle: TickReport = { deletion: undefined, checked: 3, passes: [], gc: undefined, more: false, didWork: false };

describe('summarise: the stream sweep', () => {
  it('counts expired streams, orphan topics and corrected fork counts, over every tick', () => {
    const swept: TickReport = {
      ...idle,
      didWork: true,
      streams: { expire: ['ds.a', 'ds.b'], orphanTopics: ['__ds.x.1'], forkCounts: [{ id: 'ds.c', epoch: 1, forks: 0 }] },
    };
    const summary = summarise([swept, idle, { ...idle, streams: { expire: [], orphanTopics: [], forkCounts: [] } }]);
    expect(summary.streamsSwept).toBe(4);
    expect(summary.ticks).toBe(3);
    expect(summaryLine(summary, false)).toMatch(/swept 4 Durable Streams leftovers/);
    expect(runLine(summary)).toMatch(/swept 4 Durable Streams leftovers/);
    expect(summaryLine(summary, true)).toMatch(/sweep 4 Durable Streams leftovers/);
  });

  it('an idle run is still "nothing to do"', () => {
    const summary = summarise([idle, idle]);
    expect(summary.streamsSwept).toBe(0);
    expect(summaryLine(summary, false)).toMatch(/nothing to do/);
    expect(runLine(summary)).toBeUndefined();
  });
});
