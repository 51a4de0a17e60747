import { SluiceError } from '../../lib/errors.ts';

/** The Kafka code `fn` throws, undefined when it returns, or a marker for a non-Sluice error. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof SluiceError ? err.code : `non-sluice: ${String(err)}`;
  }
}
