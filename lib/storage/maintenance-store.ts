/**
 * Maintenance's own bookkeeping in the meta table (layout in keys/maintenance.ts): the garbage
 * collector's sweep state. Shared by every runner (the scheduled function, the dev server's
 * timer, the CLI), so a sweep continues where any of them stopped, and a quiet bucket is
 * listed rarely (gc.ts says when).
 *
 * Advisory only: two runners reading the same state list the same page twice and delete
 * nothing twice (deleting a gone key succeeds). Sweep writes are conditional on the version
 * read, so the cursor never moves back; `markDirty` is a separate attribute that sweeps never
 * overwrite, so a change is never forgotten.
 */
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { N, S, keyAttributes, optNum, optStr, type Item } from './attributes.ts';
import type { AwsClients } from './clients.ts';
import { conditionalWrite } from './conditional-write.ts';
import { gcSweepKey } from './keys/maintenance.ts';
import { withRetries } from './retry.ts';

export interface SweepState {
  /** Last key listed by the sweep in progress; undefined: no sweep in progress. */
  readonly cursor: string | undefined;
  /** When the sweep in progress (or the last one) started (ms; 0: never). */
  readonly startedAt: number;
  /** The sweep in progress checks only objects last modified at or after this (0: all). */
  readonly since: number;
  /** When the last complete sweep finished (ms; 0: never). */
  readonly sweptAt: number;
  /** First change since the last full sweep began that may have left old objects unreferenced (0: none). */
  readonly dirtyAt: number;
  /** The latest such change (a full sweep clears the mark only if none came after it read it). */
  readonly lastDirtyAt: number;
  /** Bumped by every sweep write (the condition of the next). */
  readonly version: number;
}

export type SweepUpdate = Omit<SweepState, 'version' | 'dirtyAt' | 'lastDirtyAt'> & {
  /**
   * A full sweep starting: `seen` is the lastDirtyAt it read. The mark is cleared, or, when
   * `keepFrom` is given (changes too recent for the index to have caught up), moved to it so a
   * later full sweep covers them.
   */
  readonly clearDirty?: { readonly seen: number; readonly keepFrom?: number };
};

const ATTR = { cursor: 'cursor', startedAt: 'startedAt', since: 'since', sweptAt: 'sweptAt', dirtyAt: 'dirtyAt', lastDirtyAt: 'lastDirtyAt', version: 'version' } as const;

export class MaintenanceStore {
  constructor(private readonly clients: AwsClients, private readonly table: string) {}

  async sweep(): Promise<SweepState> {
    const out = await withRetries('read gc sweep', () =>
      this.clients.dynamo.send(new GetItemCommand({ TableName: this.table, Key: keyAttributes(gcSweepKey()), ConsistentRead: true })),
    );
    const item = out.Item;
    return {
      cursor: optStr(item, ATTR.cursor),
      startedAt: optNum(item, ATTR.startedAt) ?? 0,
      since: optNum(item, ATTR.since) ?? 0,
      sweptAt: optNum(item, ATTR.sweptAt) ?? 0,
      dirtyAt: optNum(item, ATTR.dirtyAt) ?? 0,
      lastDirtyAt: optNum(item, ATTR.lastDirtyAt) ?? 0,
      version: optNum(item, ATTR.version) ?? 0,
    };
  }

  /**
   * Stores the sweep's next state if the stored one is still `prev` (false: another runner
   * moved it). `clearDirty` applies only if no change was marked since the state was read
   * (else the write loses and the sweep starts at the next step).
   */
  async saveSweep(prev: SweepState, next: SweepUpdate): Promise<boolean> {
    const values: Item = {
      ':v': N(prev.version),
      ':nv': N(prev.version + 1),
      ':started': N(next.startedAt),
      ':since': N(next.since),
      ':swept': N(next.sweptAt),
    };
    const sets = ['#version = :nv', '#startedAt = :started', '#since = :since', '#sweptAt = :swept'];
    const names: Record<string, string> = { '#version': ATTR.version, '#startedAt': ATTR.startedAt, '#since': ATTR.since, '#sweptAt': ATTR.sweptAt, '#cursor': ATTR.cursor };
    if (next.cursor !== undefined) {
      sets.push('#cursor = :cursor');
      values[':cursor'] = S(next.cursor);
    }
    let condition = prev.version === 0 ? '(attribute_not_exists(#version) OR #version = :v)' : '#version = :v';
    const removes = next.cursor === undefined ? ['#cursor'] : [];
    if (next.clearDirty !== undefined) {
      const keep = next.clearDirty.keepFrom;
      if (keep === undefined) removes.push('#dirtyAt');
      else {
        sets.push('#dirtyAt = :keep');
        values[':keep'] = N(keep);
      }
      names['#dirtyAt'] = ATTR.dirtyAt;
      names['#lastDirtyAt'] = ATTR.lastDirtyAt;
      values[':dirty'] = N(next.clearDirty.seen);
      condition += ' AND (attribute_not_exists(#lastDirtyAt) OR #lastDirtyAt = :dirty)';
    }
    const outcome = await conditionalWrite('save gc sweep', () =>
      this.clients.dynamo.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyAttributes(gcSweepKey()),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
    return outcome.won;
  }

  /**
   * Records that objects may become unreferenced (a merge is about to move entries, a topic's
   * entries are about to be deleted): the next full sweep checks every object, not only new
   * ones. `dirtyAt` keeps the first mark (when a sweep is due), `lastDirtyAt` the latest (so a
   * sweep starting never clears a mark it did not see). Unconditional: never lost.
   */
  async markDirty(at: number): Promise<void> {
    await withRetries('mark gc dirty', () =>
      this.clients.dynamo.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyAttributes(gcSweepKey()),
          UpdateExpression: 'SET #last = :at, #d = if_not_exists(#d, :at)',
          ExpressionAttributeNames: { '#d': ATTR.dirtyAt, '#last': ATTR.lastDirtyAt },
          ExpressionAttributeValues: { ':at': N(at) },
        }),
      ),
    );
  }
}
