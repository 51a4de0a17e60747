/**
 * The one shape of a conditional write (the only concurrency control Sluice has): send it with
 * the bounded retries of retry.ts, and turn "the condition failed" into a value instead of an
 * exception, carrying what DynamoDB returned about the stored item (ALL_OLD) or, for a
 * transaction, the cancellation reason of every item. Callers decide what a lost condition
 * means (a typed error, or "someone else already did it"); every other failure is thrown.
 */
import type { Item } from './attributes.ts';
import { withRetries } from './retry.ts';

export type ConditionalOutcome<T> =
  | { readonly won: true; readonly value: T }
  | {
      readonly won: false;
      /** The stored item, for a single write with ReturnValuesOnConditionCheckFailure: ALL_OLD. */
      readonly existing?: Item;
      /** Per transaction item, in order: its cancellation reason (Code 'None' if it was fine). */
      readonly reasons?: readonly { readonly Code?: string; readonly Item?: Item }[];
    };

export async function conditionalWrite<T>(what: string, send: () => Promise<T>): Promise<ConditionalOutcome<T>> {
  try {
    return { won: true, value: await withRetries(what, send) };
  } catch (err) {
    if (isConditionFailure(err)) return { won: false, existing: (err as { Item?: Item }).Item };
    if (isTransactionConditionFailure(err)) return { won: false, reasons: (err as { CancellationReasons?: [] }).CancellationReasons ?? [] };
    throw err;
  }
}

/** A single conditional write failed its condition. */
export function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/** A transaction was cancelled because (at least) one item's condition failed. */
export function isTransactionConditionFailure(err: unknown): boolean {
  const e = err as { name?: string; CancellationReasons?: { Code?: string }[] };
  return e?.name === 'TransactionCanceledException' && (e.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed');
}
