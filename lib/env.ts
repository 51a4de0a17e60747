/**
 * Builds `SluiceDeps`, the one entry point: `depsFor(backend, env, overrides)`. Every process
 * that serves the app builds its deps here (tuning defaults are in lib/config.ts):
 *   Lambda (functions/api)    depsFor(backendFromEnv(env), env): everything from the environment below
 *   `sluice dev`              its --backend, process.env, and the clients of the emulators it started
 *   tests, benches            their stack's clients and names, and an empty environment, so a
 *                             developer's shell (SLUICE_AUTH_TOKEN, SLUICE_* tuning) cannot change them
 *
 * How a Lambda function (and anything else configured by its environment) learns its resource
 * names, backend and endpoints:
 *
 * The CDK stack sets the RESOURCE_ENV variables through `SluiceFunction.bindTable()` /
 * `bindBucket()`; the integration tests set them by hand before importing `functions/api`.
 * Read once per process (Lambda: once per cold start); a missing name is a deployment bug, so
 * it fails the cold start loudly instead of failing every request later.
 *
 * Variables:
 *   SLUICE_META_TABLE, SLUICE_LOG_TABLE, SLUICE_BUCKET   required (names from RESOURCE_ENV)
 *   SLUICE_EXPRESS_BUCKET      optional; the hot tier's directory bucket (produce writes there)
 *   SLUICE_BACKEND             aws (default) | local | localstack
 *   SLUICE_DYNAMODB_ENDPOINT   optional; set = emulator mode for DynamoDB
 *   SLUICE_S3_ENDPOINT         optional; set = emulator mode for S3 (path-style addressing)
 *   SLUICE_AUTH_TOKEN          optional bootstrap admin token for /v1 routes (tokens and ACLs: lib/auth)
 *   SLUICE_AUTH_SECRET_ARN     optional Secrets Manager secret holding the bootstrap admin token (AWS)
 *   AWS_REGION / AWS_DEFAULT_REGION   region (Lambda always sets AWS_REGION)
 *   AWS_ACCESS_KEY_ID          in emulator mode, real credentials are used when set, else dummy ones
 */
import {
  BACKENDS,
  isBackend,
  randomIds,
  systemClock,
  type Backend,
  type Clock,
  type IdGenerator,
  type LogTuning,
  type SluiceDeps,
} from './deps.ts';
import { AWS_TUNING_DEFAULTS, MIN_GC_GRACE_MS, type MaintenanceSettings } from './config.ts';
import { createAwsClients, type AwsClients } from './storage/clients.ts';
import { OPTIONAL_RESOURCE_ENV, RESOURCE_ENV, type ResourceNames } from './storage/tables.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export const SLUICE_ENV = {
  backend: 'SLUICE_BACKEND',
  dynamoEndpoint: 'SLUICE_DYNAMODB_ENDPOINT',
  s3Endpoint: 'SLUICE_S3_ENDPOINT',
  authToken: 'SLUICE_AUTH_TOKEN',
  authSecretArn: 'SLUICE_AUTH_SECRET_ARN',
} as const;

/** Tunables of the log (defaults in lib/config.ts TUNING_DEFAULTS). */
export const TUNING_ENV = {
  slotTimeoutMs: 'SLUICE_SLOT_TIMEOUT_MS',
  pollIntervalMs: 'SLUICE_POLL_INTERVAL_MS',
  segmentCacheBytes: 'SLUICE_SEGMENT_CACHE_BYTES',
  topicCacheTtlMs: 'SLUICE_TOPIC_CACHE_TTL_MS',
  groupCommitMaxRequests: 'SLUICE_GROUP_COMMIT_MAX_REQUESTS',
  s3HedgeAfterMs: 'SLUICE_S3_HEDGE_AFTER_MS',
  expressHedgeAfterMs: 'SLUICE_EXPRESS_HEDGE_AFTER_MS',
  sseMaxMs: 'SLUICE_SSE_MAX_MS',
  ssePingMs: 'SLUICE_SSE_PING_MS',
  dsLongPollMs: 'SLUICE_DS_LONG_POLL_MS',
} as const satisfies Record<keyof LogTuning, string>;

/** Maintenance settings the environment may override (defaults in lib/config.ts). */
export const MAINTENANCE_ENV = {
  mergeMinAgeMs: 'SLUICE_MERGE_MIN_AGE_MS',
  segmentTargetBytes: 'SLUICE_SEGMENT_TARGET_BYTES',
  gcGraceMs: 'SLUICE_GC_GRACE_MS',
  intervalMs: 'SLUICE_MAINTENANCE_INTERVAL_MS',
} as const satisfies Partial<Record<keyof MaintenanceSettings, string>>;

/** Empty strings count as unset: `FOO= node ...` and a blank CloudFormation value mean "none". */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function resourceNamesFromEnv(env: Env = process.env): ResourceNames {
  const missing = Object.values(RESOURCE_ENV).filter((name) => read(env, name) === undefined);
  if (missing.length > 0) {
    throw new Error(
      `Missing environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: ` +
        'the physical table and bucket names must be set (the CDK stack sets them on the function).',
    );
  }
  // Checked just above; `?? ''` only satisfies the type checker.
  const get = (name: string): string => read(env, name) ?? '';
  const expressBucket = read(env, OPTIONAL_RESOURCE_ENV.expressBucket);
  return {
    tables: { meta: get(RESOURCE_ENV.metaTable), log: get(RESOURCE_ENV.logTable) },
    bucket: get(RESOURCE_ENV.bucket),
    ...(expressBucket !== undefined ? { expressBucket } : {}),
  };
}

export function backendFromEnv(env: Env = process.env): Backend {
  const value = read(env, SLUICE_ENV.backend) ?? 'aws';
  if (!isBackend(value)) {
    throw new Error(`${SLUICE_ENV.backend}='${value}' is not one of ${BACKENDS.join(', ')}`);
  }
  return value;
}

function integersFromEnv<K extends string>(env: Env, names: Readonly<Record<K, string>>): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const [field, name] of Object.entries(names) as [K, string][]) {
    const raw = read(env, name);
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
      throw new Error(`${name}='${raw}' must be a non-negative integer`);
    }
    out[field] = value;
  }
  return out;
}

export function tuningFromEnv(env: Env = process.env): Partial<LogTuning> {
  return integersFromEnv(env, TUNING_ENV);
}

export function maintenanceFromEnv(env: Env = process.env): Partial<MaintenanceSettings> {
  const settings = integersFromEnv(env, MAINTENANCE_ENV);
  // A short grace would let one runner collect what another is about to reference.
  if (settings.gcGraceMs !== undefined && settings.gcGraceMs < MIN_GC_GRACE_MS) {
    throw new Error(`${MAINTENANCE_ENV.gcGraceMs}='${settings.gcGraceMs}' must be at least ${MIN_GC_GRACE_MS} (5 minutes)`);
  }
  return settings;
}

/** AWS clients configured by the environment: real services, or emulators where endpoints are set. */
export function clientsFromEnv(env: Env = process.env): AwsClients {
  const dynamoEndpoint = read(env, SLUICE_ENV.dynamoEndpoint);
  const s3Endpoint = read(env, SLUICE_ENV.s3Endpoint);
  const emulator = dynamoEndpoint !== undefined || s3Endpoint !== undefined;
  return createAwsClients({
    dynamoEndpoint,
    s3Endpoint,
    region: read(env, 'AWS_REGION') ?? read(env, 'AWS_DEFAULT_REGION') ?? 'us-east-1',
    // Emulators accept any credentials; real ones win when present (e.g. LocalStack with a
    // profile), and outside emulator mode the SDK's default chain (the Lambda role) applies.
    dummyCredentials: emulator && read(env, 'AWS_ACCESS_KEY_ID') === undefined,
  });
}

/** What a caller already has, used instead of what the environment would give. */
export interface DepsOverrides {
  /** Clients already made: a started emulator stack's, or a bench's counting clients. */
  readonly clients?: AwsClients;
  /** Physical names already known (a local stack's); else read from the RESOURCE_ENV variables. */
  readonly names?: ResourceNames;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
}

/**
 * SluiceDeps for `backend`, configured by `env`: names (RESOURCE_ENV) and clients (endpoints,
 * region, credentials) unless overridden, the auth token and the log tunables always from `env`.
 */
export function depsFor(backend: Backend, env: Env = process.env, overrides: DepsOverrides = {}): SluiceDeps {
  const names = overrides.names ?? resourceNamesFromEnv(env);
  const tuning = { ...(backend === 'aws' ? AWS_TUNING_DEFAULTS : {}), ...tuningFromEnv(env) };
  const authToken = read(env, SLUICE_ENV.authToken);
  const authSecretArn = read(env, SLUICE_ENV.authSecretArn);
  return {
    clients: overrides.clients ?? clientsFromEnv(env),
    names,
    clock: overrides.clock ?? systemClock,
    ids: overrides.ids ?? randomIds,
    backend,
    tuning,
    ...(authToken !== undefined ? { authToken } : {}),
    ...(authSecretArn !== undefined ? { authSecretArn } : {}),
  };
}

/** Everything from the environment, the backend too (SLUICE_BACKEND): the Lambda entry. */
export function depsFromEnv(env: Env = process.env): SluiceDeps {
  // Names first: a missing one is the likelier deployment bug, and its message the more useful.
  const names = resourceNamesFromEnv(env);
  return depsFor(backendFromEnv(env), env, { names });
}
