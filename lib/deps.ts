/**
 * What the app needs from the outside world, injected (STYLE.md #10): AWS clients, physical
 * resource names, time, ids, the backend name and limits. `createApp(deps)` is served by the
 * Lambda adapter, the dev server and tests alike; only how `deps` is built differs.
 */
import { randomUUID } from 'node:crypto';
import type { AwsClients } from './storage/clients.ts';
import type { ResourceNames } from './storage/tables.ts';

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export interface IdGenerator {
  /** A fresh, unique, URL-safe id. */
  newId(): string;
}

export const BACKENDS = ['aws', 'local', 'localstack'] as const;
export type Backend = (typeof BACKENDS)[number];

export interface SluiceDeps {
  readonly clients: AwsClients;
  readonly names: ResourceNames;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly backend: Backend;
  /** Bearer token required on /v1 routes when set (locally open by default). */
  readonly authToken?: string;
  /** Tunables of the log; defaults in lib/config.ts, environment overrides in lib/env.ts. */
  readonly tuning?: Partial<LogTuning>;
}

export interface LogTuning {
  /** A reserved slot unpublished for longer than this is filled with a hole by readers. */
  readonly slotTimeoutMs: number;
  /** Long-poll re-check interval when no in-process commit wakes the poll. */
  readonly pollIntervalMs: number;
  /** Byte budget of the in-memory segment cache. */
  readonly segmentCacheBytes: number;
  /** How long topic metadata is cached in memory. */
  readonly topicCacheTtlMs: number;
}

export const systemClock: Clock = { now: () => Date.now() };
export const randomIds: IdGenerator = { newId: () => randomUUID() };
