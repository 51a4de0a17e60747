/**
 * The DynamoDB tables, derived from the shared definitions in lib/storage/tables.ts (TABLES):
 * key schema, GSIs with their projections and the TTL attribute come from there, so the stack
 * and the local bootstrap cannot drift. Nothing about a table's shape is written here.
 *
 * Cloud-only settings: on-demand capacity (traffic is bursty and idle stacks should cost
 * nothing), point-in-time recovery, a removal policy (RETAIN unless a dev stack asks),
 * deletion protection (on by default when retained), and an optional customer managed key.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  TABLES,
  type AttributeType,
  type KeyAttribute,
  type ResourceNames,
  type TableDefinition,
  type TableId,
} from '../../lib/storage/tables.ts';

const ATTRIBUTE_TYPES = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
} as const satisfies Record<AttributeType, dynamodb.AttributeType>;

function attribute(key: KeyAttribute): dynamodb.Attribute {
  return { name: key.name, type: ATTRIBUTE_TYPES[key.type] };
}

interface TableSettings {
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
  readonly encryptionKey?: kms.IKey;
}

export interface SluiceTablesProps {
  /** Physical table names (`resourceNames(prefix).tables`). */
  readonly names: ResourceNames['tables'];
  readonly removalPolicy?: RemovalPolicy;
  /** Refuse DeleteTable. @default true when removalPolicy is RETAIN, else false */
  readonly deletionProtection?: boolean;
  /** Customer managed key for both tables. @default DynamoDB's AWS-owned key */
  readonly encryptionKey?: kms.IKey;
}

export class SluiceTables extends Construct {
  /** One table per shared definition, by its id (`meta`, `log`). */
  readonly byId: Readonly<Record<TableId, dynamodb.Table>>;

  constructor(scope: Construct, id: string, props: SluiceTablesProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const settings: TableSettings = {
      removalPolicy,
      deletionProtection: props.deletionProtection ?? removalPolicy === RemovalPolicy.RETAIN,
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
    };
    const entries = TABLES.map(
      (def) => [def.id, this.table(def, props.names[def.id], settings)] as const,
    );
    this.byId = Object.fromEntries(entries) as Record<TableId, dynamodb.Table>;
  }

  get meta(): dynamodb.Table {
    return this.byId.meta;
  }

  get log(): dynamodb.Table {
    return this.byId.log;
  }

  private table(
    def: TableDefinition,
    tableName: string,
    settings: TableSettings,
  ): dynamodb.Table {
    // Construct id from the stable definition id: renaming it would replace the table.
    const constructId = def.id.charAt(0).toUpperCase() + def.id.slice(1);
    const table = new dynamodb.Table(this, constructId, {
      tableName,
      partitionKey: attribute(def.partitionKey),
      ...(def.sortKey ? { sortKey: attribute(def.sortKey) } : {}),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(def.timeToLiveAttribute ? { timeToLiveAttribute: def.timeToLiveAttribute } : {}),
      removalPolicy: settings.removalPolicy,
      deletionProtection: settings.deletionProtection,
      ...(settings.encryptionKey
        ? {
            encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryptionKey: settings.encryptionKey,
          }
        : {}),
    });
    for (const index of def.globalIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
        ...(index.nonKeyAttributes
          ? {
              projectionType: dynamodb.ProjectionType.INCLUDE,
              nonKeyAttributes: [...index.nonKeyAttributes],
            }
          : { projectionType: dynamodb.ProjectionType.ALL }),
      });
    }
    return table;
  }
}
