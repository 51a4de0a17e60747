/** What a run of ticks did, in numbers (the scheduled function's log line, the CLI's last line). */
import type { TickReport } from './maintenance.ts';
import type { Metrics } from '../metrics.ts';

export interface RunSummary {
  readonly ticks: number;
  readonly partitionsChecked: number;
  readonly passes: number;
  readonly merges: number;
  readonly entriesMerged: number;
  readonly bytesMerged: number;
  readonly objectsDeleted: number;
  readonly bytesFreed: number;
  readonly topicItemsDeleted: number;
  readonly topicsFinished: number;
  /** Durable Streams leftovers the sweep removed or corrected (expired streams, orphan topics, fork counts). */
  readonly streamsSwept: number;
  /** Work was left when the run stopped (it hit its deadline or tick limit). */
  readonly more: boolean;
}

export function summarise(reports: readonly TickReport[]): RunSummary {
  let partitionsChecked = 0, passes = 0, merges = 0, entriesMerged = 0, bytesMerged = 0;
  let objectsDeleted = 0, bytesFreed = 0, topicItemsDeleted = 0, topicsFinished = 0, streamsSwept = 0;
  for (const r of reports) {
    partitionsChecked += r.checked;
    passes += r.passes.length;
    for (const p of r.passes) {
      for (const m of p.merges) {
        if (m.kind !== 'merged') continue;
        merges++;
        entriesMerged += m.entries;
        bytesMerged += m.bytes;
      }
    }
    objectsDeleted += r.gc?.deleted.length ?? 0;
    if (r.streams) streamsSwept += r.streams.expire.length + r.streams.orphanTopics.length + r.streams.forkCounts.length;
    bytesFreed += r.gc?.bytesFreed ?? 0;
    for (const t of r.deletion?.topics ?? []) {
      topicItemsDeleted += t.itemsDeleted + t.offsetsDeleted;
      if (t.finished) topicsFinished++;
    }
  }
  return {
    ticks: reports.length,
    partitionsChecked,
    passes,
    merges,
    entriesMerged,
    bytesMerged,
    objectsDeleted,
    bytesFreed,
    topicItemsDeleted,
    topicsFinished,
    streamsSwept,
    more: reports[reports.length - 1]?.more ?? false,
  };
}

/**
 * A run's numbers as metrics (service=maintenance), once per run: a run's ticks can be many, and
 * a sum per run is what the dashboard shows. Zeros are recorded too, so an idle run is a 0, not a gap.
 */
export function recordRunMetrics(metrics: Metrics, summary: RunSummary): void {
  metrics.count('MaintenanceTicks', summary.ticks);
  metrics.bytes('MergedBytes', summary.bytesMerged);
  metrics.count('EntriesMerged', summary.entriesMerged);
  metrics.count('ObjectsDeleted', summary.objectsDeleted);
  metrics.bytes('BytesFreed', summary.bytesFreed);
  metrics.count('TopicItemsDeleted', summary.topicItemsDeleted);
}
