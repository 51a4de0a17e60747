/**
 * A stack with its OWN tables and bucket (a fresh prefix) on the shared emulators, its own SDK
 * clients and a clock tests can move forward. For maintenance tests: garbage collection sweeps
 * a whole bucket and judges age by the clock, so on the shared bucket it would collect the
 * in-flight objects of tests running in parallel. Here nothing is shared.
 *
 *   const s = await ownStack();
 *   ... s.app (API), s.maintenance(settings) (its own clients, so faults stay apart) ...
 *   s.clock.advance(ms); await s.dispose();
 */
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Hono } from 'hono';
import { afterEach, inject } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import type { MaintenanceSettings } from '../../lib/config.ts';
import type { Clock, LogTuning, SluiceDeps } from '../../lib/deps.ts';
import { depsFor } from '../../lib/env.ts';
import type { Maintenance } from '../../lib/maintenance/maintenance.ts';
import { createMaintenance, createServices, type Services } from '../../lib/services.ts';
import { ensureResources } from '../../lib/storage/bootstrap.ts';
import { createAwsClients, type AwsClients } from '../../lib/storage/clients.ts';
import { listSegmentObjects, type ListedObject } from '../../lib/storage/segment-listing.ts';
import { resourceNames } from '../../lib/storage/tables.ts';
import { quietLogger } from './logger.ts';

export interface MovableClock extends Clock {
  advance(ms: number): void;
}

export function movableClock(): MovableClock {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => void (offset += ms) };
}

export interface OwnStack {
  readonly deps: SluiceDeps;
  readonly services: Services;
  readonly app: Hono;
  readonly clock: MovableClock;
  /** Maintenance with its own clients (faults injected on them touch nothing else). */
  maintenance(settings?: Partial<MaintenanceSettings>): { maintenance: Maintenance; deps: SluiceDeps; dispose(): void };
  /** Every object in this stack's bucket. */
  objects(): Promise<ListedObject[]>;
  /** Every object in this stack's hot-tier bucket (empty without one). */
  hotObjects(): Promise<ListedObject[]>;
  dispose(): Promise<void>;
}

function clients(): AwsClients {
  const stack = inject('sluiceStack');
  return createAwsClients({ dynamoEndpoint: stack.dynamoEndpoint, s3Endpoint: stack.s3Endpoint, region: 'us-east-1', dummyCredentials: true });
}

export interface OwnStackOptions {
  /** A second bucket of the emulator stands in for the S3 Express hot tier. */
  readonly hotTier?: boolean;
}

export async function ownStack(tuning: Partial<LogTuning> = { slotTimeoutMs: 1500 }, opts: OwnStackOptions = {}): Promise<OwnStack> {
  const prefix = `own-${randomBytes(4).toString('hex')}`;
  const names = { ...resourceNames(prefix), ...(opts.hotTier ? { expressBucket: `${prefix}-hot` } : {}) };
  const clock = movableClock();
  const apiClients = clients();
  await ensureResources(apiClients, names);
  const depsWith = (c: AwsClients): SluiceDeps => ({ ...depsFor('local', {}, { clients: c, names, clock }), tuning, logger: quietLogger });
  const deps = depsWith(apiClients);
  const services = createServices(deps);
  const made: AwsClients[] = [apiClients];
  return {
    deps,
    services,
    app: createApp(deps, services),
    clock,
    maintenance(settings = {}) {
      const c = clients();
      made.push(c);
      const mdeps = depsWith(c);
      return {
        maintenance: createMaintenance(mdeps, settings),
        deps: mdeps,
        dispose: () => {
          c.dynamo.destroy();
          c.s3.destroy();
        },
      };
    },
    async objects() {
      const out: ListedObject[] = [];
      for await (const o of listSegmentObjects(apiClients, names.bucket)) out.push(o);
      return out;
    },
    async hotObjects() {
      if (names.expressBucket === undefined) return [];
      const out = await apiClients.s3.send(new ListObjectsV2Command({ Bucket: names.expressBucket }));
      return (out.Contents ?? []).map((o) => ({ key: o.Key!, lastModified: o.LastModified!.getTime(), size: o.Size ?? 0 }));
    },
    async dispose() {
      await Promise.all(
        Object.values(names.tables).map((TableName) => apiClients.dynamo.send(new DeleteTableCommand({ TableName })).catch(() => undefined)),
      );
      for (const c of made) {
        c.dynamo.destroy();
        c.s3.destroy();
      }
    },
  };
}

/**
 * For a test file: `const stack = ownStacks();` then `await stack()` in a test gives a fresh
 * own stack that is disposed after that test.
 */
export function ownStacks(): (tuning?: Partial<LogTuning>, opts?: OwnStackOptions) => Promise<OwnStack> {
  const made: OwnStack[] = [];
  afterEach(async () => {
    for (const s of made.splice(0)) await s.dispose();
  });
  return async (tuning, opts) => {
    const s = await ownStack(tuning, opts);
    made.push(s);
    return s;
  };
}
