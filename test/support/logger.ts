/**
 * Loggers for tests. Fault tests make the app answer 5xx on purpose, and each 5xx logs an
 * error line; printed, they would bury a real failure. `quietLogger` (the one `stackDeps()`
 * gives every app) holds each line back and prints it only if the test that logged it fails.
 * Routine (info) lines, one per request, are dropped. `memoryLogger` keeps every line for a
 * test that asserts on them.
 */
import { onTestFailed } from 'vitest';
import { logLine, type LogFields, type Logger } from '../../lib/deps.ts';

function holdBack(line: string): void {
  try {
    onTestFailed(() => console.error(line));
  } catch {
    console.error(line); // no test to attribute it to: never swallow it
  }
}

/** Prints a line only if the running test fails; outside a test (a hook), prints it at once. */
export const quietLogger: Logger = {
  error: (msg: string, fields?: LogFields) => holdBack(logLine('error', msg, fields)),
  // The request lines (one per request, thousands in some tests) would bury a failure's errors;
  // a test that asserts on them uses memoryLogger.
  info: () => {},
};

export interface MemoryLogger extends Logger {
  /** Every line logged so far (errors and the request lines), as the console logger would print it. */
  readonly lines: string[];
}

export function memoryLogger(): MemoryLogger {
  const lines: string[] = [];
  return {
    lines,
    error: (msg, fields) => void lines.push(logLine('error', msg, fields)),
    info: (msg, fields) => void lines.push(logLine('info', msg, fields)),
  };
}
