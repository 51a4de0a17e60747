/**
 * The local AWS stand-ins, started together: DynamoDB Local (child JVM) + s3rver (in process),
 * with the tables and bucket bootstrapped from tables.ts. Used by `sluice dev` (persistent,
 * under a data dir) and by the integration tests' global setup (in memory, temp dir).
 *
 * Also LocalStack in a container, for `--backend localstack` and the LocalStack test suite.
 */
import { join } from 'node:path';
import { ListTablesCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureResources } from '../storage/bootstrap.ts';
import { createAwsClients, type AwsClients } from '../storage/clients.ts';
import { resourceNames, type ResourceNames } from '../storage/tables.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.ts';
import { startS3Server, type S3Server } from './s3-server.ts';

export const DEFAULT_PREFIX = 'sluice';

export interface LocalStackOptions {
  /** Persist under `<dataDir>/dynamodb` and `<dataDir>/s3`; undefined = in memory + temp dir. */
  readonly dataDir?: string | undefined;
  /** Physical name prefix (`<prefix>-meta`, `<prefix>-segments`, ...). Default `sluice`. */
  readonly prefix?: string;
}

export interface LocalStack {
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  readonly names: ResourceNames;
  readonly clients: AwsClients;
  /** pid of the DynamoDB Local JVM. */
  readonly dynamoPid: number;
  /** Stops both emulators (idempotent). */
  stop(): Promise<void>;
}

export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const { dataDir } = opts;
  const [dynamo, s3] = await Promise.allSettled([
    startDynamoDbLocal({ dbPath: dataDir === undefined ? undefined : join(dataDir, 'dynamodb') }),
    startS3Server({ directory: dataDir === undefined ? undefined : join(dataDir, 's3') }),
  ]);
  const started: Array<DynamoDbLocal | S3Server> = [];
  if (dynamo.status === 'fulfilled') started.push(dynamo.value);
  if (s3.status === 'fulfilled') started.push(s3.value);
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(started.map((s) => s.stop()));
  };
  if (dynamo.status === 'rejected' || s3.status === 'rejected') {
    await stopAll();
    throw dynamo.status === 'rejected' ? dynamo.reason : (s3 as PromiseRejectedResult).reason;
  }

  const names = resourceNames(opts.prefix ?? DEFAULT_PREFIX);
  const clients = createAwsClients({
    dynamoEndpoint: dynamo.value.endpoint,
    s3Endpoint: s3.value.endpoint,
    region: 'us-east-1',
    dummyCredentials: true,
  });
  if (dataDir !== undefined) awaitTransactionCommits(clients.dynamo);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      clients.dynamo.destroy();
      clients.s3.destroy();
      await stopAll();
    })());
  try {
    await ensureResources(clients, names, { timeoutMs: 30_000 });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    dynamoEndpoint: dynamo.value.endpoint,
    s3Endpoint: s3.value.endpoint,
    names,
    clients,
    dynamoPid: dynamo.value.pid,
    stop,
  };
}

/**
 * DynamoDB Local 1.25.1 answers TransactWriteItems (and ExecuteTransaction) before the SQLite
 * COMMIT of that transaction has run: `SQLiteDBAccess.commitTransaction` queues the COMMIT to
 * the single thread that runs every database job and does not wait for it. A kill of the JVM in
 * that window (a COMMIT with its journal syncs takes a few ms) loses an acknowledged
 * transaction; single-item writes are awaited and are not affected. The database thread runs
 * its jobs one at a time in the order they were queued, so any request queued after the
 * COMMIT (here ListTables, which reads the database) completes only after it. Waiting for one
 * makes a transaction durable before the caller sees it succeed: one extra local round trip per
 * transaction, on the persistent local stack only (in memory there is nothing to lose). If that
 * request fails, the caller gets the error of an answer lost in transit (the transaction may
 * have committed), which callers handle anyway: AWS can lose an answer too.
 * Measured in bench/local-durability.ts.
 */
function awaitTransactionCommits(dynamo: DynamoDBClient): void {
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const output = await next(args);
      if (context.commandName === 'TransactWriteItemsCommand' || context.commandName === 'ExecuteTransactionCommand') {
        await dynamo.send(new ListTablesCommand({ Limit: 1 }));
      }
      return output;
    },
    { step: 'initialize', name: 'sluiceAwaitLocalCommit' },
  );
}

// ---- LocalStack (containers) ----------------------------------------------------------------

export const LOCALSTACK_IMAGE = 'localstack/localstack:4';

/** True when Docker (or another runtime testcontainers understands) answers. Fast when absent. */
export async function hasContainerRuntime(): Promise<boolean> {
  try {
    // Loaded lazily: testcontainers is a dev dependency.
    const { getContainerRuntimeClient } = await import('testcontainers');
    return await getContainerRuntimeClient().then(
      () => true,
      () => false,
    );
  } catch {
    return false;
  }
}

export interface LocalstackContainerHandle {
  /** One endpoint for every service (DynamoDB and S3 alike). */
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startLocalstackContainer(): Promise<LocalstackContainerHandle> {
  const { LocalstackContainer } = await import('@testcontainers/localstack');
  const container = await new LocalstackContainer(LOCALSTACK_IMAGE).start();
  let stopping: Promise<void> | undefined;
  return {
    endpoint: container.getConnectionUri(),
    stop: () =>
      (stopping ??= container.stop().then(() => undefined)),
  };
}

/** Clients for LocalStack: one endpoint, dummy credentials, path-style S3. */
export function localstackClients(endpoint: string): AwsClients {
  return createAwsClients({
    dynamoEndpoint: endpoint,
    s3Endpoint: endpoint,
    region: 'us-east-1',
    dummyCredentials: true,
  });
}

export interface LocalstackStack {
  readonly endpoint: string;
  readonly clients: AwsClients;
  readonly names: ResourceNames;
  stop(): Promise<void>;
}

/**
 * LocalStack in a container with Sluice's tables and bucket created: the `--backend
 * localstack` counterpart of startLocalStack. Stops the container if provisioning fails.
 */
export async function startLocalstackStack(opts: { prefix?: string; timeoutMs?: number } = {}): Promise<LocalstackStack> {
  if (!(await hasContainerRuntime())) {
    throw new Error('--backend localstack needs a container runtime (Docker), and none was found');
  }
  const container = await startLocalstackContainer();
  const clients = localstackClients(container.endpoint);
  const names = resourceNames(opts.prefix ?? DEFAULT_PREFIX);
  try {
    await ensureResources(clients, names, opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs });
  } catch (err) {
    await container.stop();
    throw err;
  }
  return { endpoint: container.endpoint, clients, names, stop: container.stop };
}
