/**
 * What the app needs from the outside world, injected (never read ad hoc inside lib/): AWS clients, physical
 * resource names, time, ids, logging, the backend name and limits. `createApp(deps)` is served by the
 * Lambda adapter, the dev server and tests alike; only how `deps` is built differs.
 */
import { randomUUID } from 'node:crypto';
import type { AwsClients } from './storage/clients.ts';
import type { ResourceNames } from './storage/tables.ts';
import type { Metrics } from './metrics.ts';

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export interface IdGenerator {
  /** A fresh, unique, URL-safe id. */
  newId(): string;
}

/** Where data lives; the one list (the CLI's `--backend` choices and SLUICE_BACKEND use it). */
export const BACKENDS = ['aws', 'local', 'localstack'] as const;
export type Backend = (typeof BACKENDS)[number];

export function isBackend(value: string): value is Backend {
  return (BACKENDS as readonly string[]).includes(value);
}

export interface SluiceDeps {
  readonly clients: AwsClients;
  readonly names: ResourceNames;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly backend: Backend;
  /**
   * The bootstrap admin token (SLUICE_AUTH_TOKEN). With it, or with `authSecretArn`, every /v1
   * route needs a bearer token and tokens carry ACLs (lib/auth); with neither the API is open.
   */
  readonly authToken?: string;
  /** A Secrets Manager secret whose SecretString is the bootstrap admin token (SLUICE_AUTH_SECRET_ARN, on AWS). */
  readonly authSecretArn?: string;
  /** Tunables of the log; defaults in lib/config.ts, environment overrides in lib/env.ts. */
  readonly tuning?: Partial<LogTuning>;
  /** Where server-side failures and request lines are logged; JSON lines on the console when unset. */
  readonly logger?: Logger;
  /** Where numbers go (lib/metrics.ts): Powertools EMF on Lambda; nothing when unset. */
  readonly metrics?: Metrics;
}

/** Structured fields of a log line (JSON-serialisable). */
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  /** A failure on the server's side (an answer of 500 or more): worth an operator's look. */
  error(msg: string, fields?: LogFields): void;
  /** Routine events: one line per HTTP request (lib/api/request-log.ts). */
  info(msg: string, fields?: LogFields): void;
}

/** One log line: JSON with `level` and `msg` first; fields never overwrite them. */
export function logLine(level: 'error' | 'info', msg: string, fields: LogFields = {}): string {
  return JSON.stringify(Object.assign({ level, msg }, fields, { level, msg }));
}

/** The default: one JSON line per event, errors on stderr, the rest on stdout (the dev server; Lambda uses lib/observability). */
export const consoleLogger: Logger = {
  error: (msg, fields) => console.error(logLine('error', msg, fields)),
  info: (msg, fields) => console.log(logLine('info', msg, fields)),
};

export interface LogTuning {
  /** A reserved slot unpublished for longer than this is filled with a hole by readers. */
  readonly slotTimeoutMs: number;
  /** Long-poll re-check interval when no in-process commit wakes the poll. */
  readonly pollIntervalMs: number;
  /** Byte budget of the in-memory segment cache. */
  readonly segmentCacheBytes: number;
  /** How long topic metadata is cached in memory. */
  readonly topicCacheTtlMs: number;
  /**
   * Produce requests one group commit carries at most (lib/log/group-commit.ts): requests
   * that arrive together in one process share one segment PUT and one reserve per partition.
   * 1 turns it off.
   */
  readonly groupCommitMaxRequests: number;
  /**
   * A segment PUT or GET to S3 Standard still unanswered after this many ms (plus 20 ms per
   * MiB) is sent once more, the first answer winning (lib/storage/hedge.ts); 0 = never.
   * On by default on AWS only: the emulators have no latency tail to cut.
   */
  readonly s3HedgeAfterMs: number;
  /** The same for the S3 Express hot tier. */
  readonly expressHedgeAfterMs: number;
  /** An SSE read (`live=sse`) ends after this long, telling the client to resume (lib/api/routes/sse.ts). */
  readonly sseMaxMs: number;
  /** An idle SSE read sends a `ping` this often. */
  readonly ssePingMs: number;
  /** A Durable Streams long poll (`/ds`, `live=long-poll`) waits at the tail this long. */
  readonly dsLongPollMs: number;
}

export const systemClock: Clock = { now: () => Date.now() };
export const randomIds: IdGenerator = { newId: () => randomUUID() };
