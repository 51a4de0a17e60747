/**
 * Human-readable lines for maintenance reports: `sluice maintenance run` prints them per tick
 * and at the end, the dev server's timer prints `runLine` after a run that changed something.
 * Pure: topic names come from a lookup the caller fills (tick reports carry topic ids only).
 */
import type { TickReport } from './maintenance.ts';
import type { RunSummary } from './summary.ts';

/** Topic id to name; undefined when unknown (the line shows the id instead). */
export type TopicNames = (topicId: string) => string | undefined;

/** 512 B, 14.1 KiB, 3.0 MiB, 1.2 GiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function partitionName(names: TopicNames, topicId: string, partition: number): string {
  return `${names(topicId) ?? topicId}/${partition}`;
}

/**
 * What one tick did (dry run: would do), one line per action, each prefixed `tick N:`; no
 * lines for a tick that did nothing. Merges name the partition, slot range, entries, bytes,
 * source objects and the new object; deletions the objects and bytes; topic deletions their
 * progress. A dry run lists every object it would delete, one per line.
 */
export function tickLines(report: TickReport, tick: number, names: TopicNames, dryRun: boolean): string[] {
  if (!report.didWork) return [];
  const prefix = `tick ${tick}:`;
  const lines: string[] = [];
  for (const pass of report.passes) {
    const where = partitionName(names, pass.tp.topicId, pass.tp.partition);
    if (dryRun) {
      for (const run of pass.planned) {
        lines.push(`${prefix} would merge ${where} slots ${run.firstSlot}-${run.lastSlot} (${formatBytes(run.bytes)})`);
      }
      continue;
    }
    pass.merges.forEach((merge, i) => {
      const run = pass.planned[i];
      const slots = run === undefined ? '' : ` slots ${run.firstSlot}-${run.lastSlot}`;
      if (merge.kind === 'merged') {
        const lost = merge.lost > 0 ? `, ${merge.lost} left in place (moved by another runner)` : '';
        lines.push(
          `${prefix} merged ${where}${slots}: ${plural(merge.entries, 'entry', 'entries')}, ${formatBytes(merge.bytes)} ` +
            `from ${plural(merge.sourceObjects, 'object')} into ${merge.object}${lost}`,
        );
      } else {
        lines.push(`${prefix} skipped merge of ${where}${slots}: ${merge.reason}${merge.detail === undefined ? '' : ` (${merge.detail})`}`);
      }
    });
  }
  const gc = report.gc;
  if (gc !== undefined && gc.deleted.length > 0) {
    if (dryRun) {
      lines.push(`${prefix} would delete ${plural(gc.deleted.length, 'unreferenced object')} (${formatBytes(gc.bytesFreed)}):`);
      for (const key of gc.deleted) lines.push(`  ${key}`);
    } else {
      lines.push(`${prefix} deleted ${plural(gc.deleted.length, 'unreferenced object')} (${formatBytes(gc.bytesFreed)})`);
    }
  }
  for (const t of report.deletion?.topics ?? []) {
    const items = t.itemsDeleted + t.offsetsDeleted;
    if (items === 0 && !t.finished) continue;
    const verb = dryRun ? 'would delete' : 'deleted';
    const what = `${plural(t.itemsDeleted, 'log item')}, ${plural(t.offsetsDeleted, 'committed offset')}`;
    const state = t.finished ? (dryRun ? 'would be finished' : 'finished') : t.swept ? 'swept, marker kept until the grace has passed' : 'more left';
    lines.push(`${prefix} topic deletion ${t.name} (${t.topicId}): ${verb} ${what}; ${state}`);
  }
  return lines;
}

/** Runs a dry run planned (RunSummary counts only merges carried out). */
export interface Planned {
  readonly plannedMerges: number;
  readonly plannedBytes: number;
}

export function plannedOf(reports: readonly TickReport[]): Planned {
  let plannedMerges = 0;
  let plannedBytes = 0;
  for (const r of reports) {
    for (const p of r.passes) {
      plannedMerges += p.planned.length;
      plannedBytes += p.planned.reduce((n, run) => n + run.bytes, 0);
    }
  }
  return { plannedMerges, plannedBytes };
}

/** The last line of `sluice maintenance run`. */
export function summaryLine(summary: RunSummary, dryRun: boolean, planned: Planned = { plannedMerges: 0, plannedBytes: 0 }): string {
  const looked = `${plural(summary.ticks, 'tick')}, ${plural(summary.partitionsChecked, 'partition')} checked`;
  const left = summary.more ? '; stopped with work left' : '';
  if (dryRun) {
    return (
      `dry run, nothing written (${looked}): would merge ${plural(planned.plannedMerges, 'run')} (${formatBytes(planned.plannedBytes)}), ` +
      `delete ${plural(summary.objectsDeleted, 'object')} (${formatBytes(summary.bytesFreed)}) ` +
      `and ${plural(summary.topicItemsDeleted, 'item')} of deleted topics` +
      (summary.streamsSwept > 0 ? `, sweep ${plural(summary.streamsSwept, 'Durable Streams leftover')}` : '') +
      left
    );
  }
  const changed = changes(summary);
  if (changed === undefined) return `maintenance done (${looked}): nothing to do${left}`;
  return `maintenance done (${looked}): ${changed}${left}`;
}

/** What a run changed, or undefined when nothing. */
function changes(s: RunSummary): string | undefined {
  if (s.merges === 0 && s.objectsDeleted === 0 && s.topicItemsDeleted === 0 && s.topicsFinished === 0 && s.streamsSwept === 0) return undefined;
  return (
    `merged ${plural(s.merges, 'run')} (${plural(s.entriesMerged, 'entry', 'entries')}, ${formatBytes(s.bytesMerged)}), ` +
    `deleted ${plural(s.objectsDeleted, 'object')} (${formatBytes(s.bytesFreed)}), ` +
    `${plural(s.topicItemsDeleted, 'item')} of deleted topics, ${plural(s.topicsFinished, 'topic deletion')} finished` +
    (s.streamsSwept > 0 ? `, swept ${plural(s.streamsSwept, 'Durable Streams leftover')}` : '')
  );
}

/** The dev server's line after a timer run: undefined when the run changed nothing. */
export function runLine(summary: RunSummary): string | undefined {
  const changed = changes(summary);
  return changed === undefined ? undefined : `maintenance: ${changed}`;
}
