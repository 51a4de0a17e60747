/**
 * Captures what is written straight to process.stdout (Powertools writes its log lines and EMF
 * there through its own Console, not through the console vitest intercepts). The lines are
 * kept for assertions and printed only if the running test fails, so a Lambda test run stays quiet.
 */
import { onTestFailed, vi } from 'vitest';

export interface CapturedStdout {
  readonly lines: string[];
  /** The lines that parse as JSON objects. */
  json(): Record<string, any>[];
  restore(): void;
}

export function captureStdout(): CapturedStdout {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
    return true;
  });
  try {
    onTestFailed(() => void original(lines.map((l) => `${l}\n`).join('')));
  } catch {
    // outside a test (a hook): nothing to attribute the lines to
  }
  return {
    lines,
    json: () =>
      lines.flatMap((l) => {
        try {
          const v: unknown = JSON.parse(l);
          return v !== null && typeof v === 'object' ? [v as Record<string, any>] : [];
        } catch {
          return [];
        }
      }),
    restore: () => spy.mockRestore(),
  };
}
