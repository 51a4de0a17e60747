/**
 * Maintenance's own bookkeeping in the meta table (layout in keys/maintenance.ts): the garbage
 * collector's sweep cursor. Shared by every runner (the scheduled function, the dev server's
 * timer, the CLI), so a sweep continues where any of them stopped, and a quiet bucket is
 * listed once per sweep interval, not once per tick.
 *
 * Advisory only: two runners reading the same cursor list the same page twice and delete
 * nothing twice (deleting a gone key succeeds); the write is conditional on the cursor read,
 * so the cursor never moves back.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { N, S, keyAttributes, optNum, optStr } from './attributes.ts';
import type { AwsClients } from './clients.ts';
import { conditionalWrite } from './conditional-write.ts';
import { gcSweepKey } from './keys/maintenance.ts';
import { withRetries } from './retry.ts';

export interface SweepState {
  /** Last key listed by the sweep in progress; undefined: no sweep in progress. */
  readonly cursor: string | undefined;
  /** When the last complete sweep finished (ms; 0: never). */
  readonly sweptAt: number;
  /** Bumped by every write (the condition of the next). */
  readonly version: number;
}

export class MaintenanceStore {
  constructor(private readonly clients: AwsClients, private readonly table: string) {}

  async sweep(): Promise<SweepState> {
    const out = await withRetries('read gc sweep', () =>
      this.clients.dynamo.send(new GetItemCommand({ TableName: this.table, Key: keyAttributes(gcSweepKey()), ConsistentRead: true })),
    );
    return {
      cursor: optStr(out.Item, 'cursor'),
      sweptAt: optNum(out.Item, 'sweptAt') ?? 0,
      version: optNum(out.Item, 'version') ?? 0,
    };
  }

  /** Stores the next state if the stored one is still `prev`; false when another runner moved it. */
  async saveSweep(prev: SweepState, next: Omit<SweepState, 'version'>): Promise<boolean> {
    const outcome = await conditionalWrite('save gc sweep', () =>
      this.clients.dynamo.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            ...keyAttributes(gcSweepKey()),
            ...(next.cursor !== undefined ? { cursor: S(next.cursor) } : {}),
            sweptAt: N(next.sweptAt),
            version: N(prev.version + 1),
          },
          ConditionExpression: prev.version === 0 ? 'attribute_not_exists(pk) OR #v = :v' : '#v = :v',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':v': N(prev.version) },
        }),
      ),
    );
    return outcome.won;
  }
}
