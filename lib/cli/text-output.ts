/**
 * Human output of the client commands: aligned tables (as kafka-topics and
 * kafka-consumer-groups print them) and sizes. Pure; --json output never goes through here.
 */

/** Lines of a table: the header, then one line per row, columns padded to their widest cell. */
export function renderTable(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string[] {
  const cells = [header, ...rows.map((row) => row.map((c) => (c === null ? '-' : String(c))))];
  const widths = header.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? '').length)));
  return cells.map((row) =>
    row
      .map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** 999 B, 12.3 KB, 4.5 MB, ... (decimal units, one decimal below 100). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = '';
  for (const u of units) {
    value /= 1000;
    unit = u;
    if (value < 1000) break;
  }
  return `${value < 100 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

/** Seconds with one decimal (0.4 s), or whole seconds from 100 s on. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s < 100 ? s.toFixed(1) : Math.round(s)} s`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The "Examples:" block of a command's help (commander's addHelpText('after', ...)). */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}
