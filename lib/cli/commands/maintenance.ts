/**
 * `sluice maintenance run`: maintenance passes by hand (lib/maintenance), ticking until nothing
 * is left: merge small segments, delete unreferenced objects past the grace, finish topic
 * deletions. One line per action of a tick that did something, then a summary line (or, with
 * --json, the RunSummary as one JSON object). `--dry-run` plans and writes nothing.
 *
 * Where it runs:
 *   local  the data dir of `sluice dev`. While a dev server runs on it, its emulators (their
 *          endpoints are in the data dir's owner file, see dev.ts DATA_DIR_OWNER_FILE); else
 *          it starts its own DynamoDB Local + s3rver on the data dir for the run and claims the
 *          dir meanwhile (a `sluice dev` started then refuses). Never two JVMs on one data dir.
 *   aws    the environment, as the Lambda function: SLUICE_META_TABLE / SLUICE_LOG_TABLE /
 *          SLUICE_BUCKET, region and credentials; SLUICE_DYNAMODB_ENDPOINT / SLUICE_S3_ENDPOINT
 *          point it at emulators (LocalStack, or any other).
 * Settings from SLUICE_MERGE_MIN_AGE_MS, SLUICE_SEGMENT_TARGET_BYTES, SLUICE_GC_GRACE_MS.
 *
 * The action builds deps and calls runMaintenanceCommand(opts, deps, print), which tests call
 * in process with their own stack's deps.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { MaintenanceSettings } from '../../config.ts';
import type { SluiceDeps } from '../../deps.ts';
import { depsFor, maintenanceFromEnv, MAINTENANCE_ENV, type Env } from '../../env.ts';
import { DEFAULT_PREFIX, startLocalStack } from '../../local/local-stack.ts';
import { plannedOf, summaryLine, tickLines, type Planned } from '../../maintenance/report-text.ts';
import { summarise, type RunSummary } from '../../maintenance/summary.ts';
import { createMaintenance } from '../../services.ts';
import { createAwsClients } from '../../storage/clients.ts';
import { TopicStore } from '../../storage/topic-store.ts';
import { onStop } from '../signals.ts';
import { claimDataDir, dataDirOwner, DATA_DIR_OWNER_FILE, DEV_DEFAULTS } from './dev.ts';

const RUN_BACKENDS = ['local', 'aws'] as const;
type RunBackend = (typeof RUN_BACKENDS)[number];

export interface MaintenanceRunFlags {
  readonly dryRun?: boolean;
  readonly topic?: string;
  readonly json?: boolean;
  readonly backend?: string;
  readonly dataDir?: string;
}

const RUN_HELP = `
Where it runs:
  --backend local (default)  the data dir of \`sluice dev\` (--data-dir, env SLUICE_DATA_DIR, default ./${DEV_DEFAULTS.dataDir}).
                             If a \`sluice dev\` is running on it, the run uses that server's emulators
                             (found through <data dir>/${DATA_DIR_OWNER_FILE}); if not, it starts DynamoDB Local
                             and s3rver on the data dir for the run (a few seconds) and stops them after.
                             A running dev server also runs maintenance itself every
                             ${MAINTENANCE_ENV.intervalMs} (default 10 s).
  --backend aws              configured by the environment like the Lambda functions: SLUICE_META_TABLE,
                             SLUICE_LOG_TABLE, SLUICE_BUCKET, AWS region and credentials. Set
                             SLUICE_DYNAMODB_ENDPOINT / SLUICE_S3_ENDPOINT to point it at emulators
                             (e.g. LocalStack).

Settings: ${MAINTENANCE_ENV.mergeMinAgeMs} (default 60000: younger entries wait), ${MAINTENANCE_ENV.segmentTargetBytes},
${MAINTENANCE_ENV.gcGraceMs} (default 900000: replaced objects are deleted only once older than this).

Output: one line per action of each tick that did something, then a summary line; --json prints
only the summary as one JSON object. Exit code 0 on success, 1 on failure (message on stderr),
130 when interrupted (Ctrl-C stops after the current tick; a second Ctrl-C aborts at once).
Several runs at once (the dev server's timer, the scheduled function, this command) are safe:
every write is conditional, they only repeat work.

Examples:
  sluice maintenance run --dry-run
  SLUICE_MERGE_MIN_AGE_MS=0 sluice maintenance run --topic payments
  SLUICE_META_TABLE=... SLUICE_LOG_TABLE=... SLUICE_BUCKET=... sluice maintenance run --backend aws --json
`;

/** The `maintenance` command group (today: `run`); the root (lib/cli/main.ts) registers it. */
export function maintenanceCommand(): Command {
  const run = new Command('run')
    .description('Run maintenance passes until nothing is left: merge small segments, delete unreferenced objects, finish topic deletions')
    .option('--dry-run', 'print what it would do (merge runs, objects and topic items to delete); write nothing')
    .option('--topic <name>', "only this topic's partitions and pending deletion (no garbage collection: objects are shared)")
    .option('--json', 'print only the summary, as JSON')
    .addOption(new Option('--backend <backend>', `where data lives: ${RUN_BACKENDS.join(' or ')} (see below)`).default('local'))
    .option('--data-dir <dir>', `local backend data directory (env SLUICE_DATA_DIR, default ./${DEV_DEFAULTS.dataDir})`)
    .addHelpText('after', RUN_HELP)
    .action(async (flags: MaintenanceRunFlags) => {
      process.exitCode = await maintenanceRunCli(flags);
    });
  return new Command('maintenance')
    .description('Maintenance by hand: merge small segments, delete unreferenced objects, finish topic deletions')
    .addCommand(run);
}

export interface MaintenanceRunOptions {
  readonly dryRun?: boolean;
  readonly topic?: string;
  readonly json?: boolean;
  /** Over MAINTENANCE_DEFAULTS (the CLI: from the environment). */
  readonly settings?: Partial<MaintenanceSettings>;
  readonly maxTicks?: number;
  /** Stop early (checked before each tick): Ctrl-C. */
  readonly until?: () => boolean;
}

/** A request that cannot be carried out as asked (said as is, without the failure prefix). */
export class MaintenanceUsageError extends Error {}

/** The RunSummary, with what a dry run planned (RunSummary itself counts merges carried out only). */
export type MaintenanceRunResult = RunSummary & Planned & { readonly dryRun: boolean };

/**
 * The command itself, on deps already built: ticks until idle, printing through `print`.
 * Throws (a clear message) when `topic` names no topic and no pending deletion, or when a
 * tick fails.
 */
export async function runMaintenanceCommand(
  opts: MaintenanceRunOptions,
  deps: SluiceDeps,
  print: (line: string) => void = console.log,
): Promise<MaintenanceRunResult> {
  const dryRun = opts.dryRun ?? false;
  const topicStore = new TopicStore(deps.clients, deps.names.tables.meta);
  const [topics, deleted] = await Promise.all([topicStore.list(), topicStore.deletedTopics()]);
  const names = new Map<string, string>([...deleted, ...topics].map((t) => [t.topicId, t.name]));
  if (opts.topic !== undefined && ![...names.values()].includes(opts.topic)) {
    throw new MaintenanceUsageError(`no topic named '${opts.topic}' (and no deletion of one still to finish)`);
  }

  const maintenance = createMaintenance(deps, opts.settings ?? {});
  let tick = 0;
  const reports = await maintenance.runUntilIdle(
    { dryRun, ...(opts.topic !== undefined ? { topic: opts.topic } : {}) },
    {
      ...(opts.maxTicks !== undefined ? { maxTicks: opts.maxTicks } : {}),
      ...(opts.until !== undefined ? { until: opts.until } : {}),
      onTick: (report) => {
        tick++;
        if (opts.json) return;
        for (const line of tickLines(report, tick, (id) => names.get(id), dryRun)) print(line);
      },
    },
  );
  const summary = summarise(reports);
  const planned = plannedOf(reports);
  const result: MaintenanceRunResult = { ...summary, ...planned, dryRun };
  print(opts.json ? JSON.stringify(result) : summaryLine(summary, dryRun, planned));
  return result;
}

/** Deps for the chosen backend, and how to let go of them. */
interface Target {
  readonly deps: SluiceDeps;
  /** Said on stderr before the run (stdout stays the report). */
  readonly note?: string;
  close(): Promise<void>;
}

/** The local data dir: a running dev server's emulators, else our own on the data dir. */
async function localTarget(dataDir: string, env: Env): Promise<Target> {
  if (!existsSync(dataDir)) {
    throw new Error(`no data dir at ${dataDir}: run \`sluice dev\` once, or pass --data-dir (env SLUICE_DATA_DIR)`);
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const owner = await dataDirOwner(dataDir);
  if (owner !== undefined) {
    if (owner.dynamoEndpoint === undefined || owner.s3Endpoint === undefined || owner.names === undefined) {
      throw new Error(`${owner.command} (pid ${owner.pid}) is still starting on ${dataDir}: try again in a few seconds`);
    }
    const answer = await fetch(owner.dynamoEndpoint, { signal: AbortSignal.timeout(3_000) }).catch((err: unknown) => err as Error);
    if (answer instanceof Error) {
      throw new Error(
        `${owner.command} (pid ${owner.pid}) holds ${dataDir}, but its DynamoDB Local at ${owner.dynamoEndpoint} does not answer (${answer.message}). ` +
          `If no such process runs, delete ${join(dataDir, DATA_DIR_OWNER_FILE)}.`,
      );
    }
    const clients = createAwsClients({ dynamoEndpoint: owner.dynamoEndpoint, s3Endpoint: owner.s3Endpoint, region: 'us-east-1', dummyCredentials: true });
    return {
      deps: depsFor('local', env, { clients, names: owner.names }),
      note: `using the emulators of ${owner.command} (pid ${owner.pid}) on ${dataDir}`,
      close: async () => {
        clients.dynamo.destroy();
        clients.s3.destroy();
      },
    };
  }
  const claim = await claimDataDir(dataDir, 'sluice maintenance run');
  try {
    const stack = await startLocalStack({ dataDir, prefix: DEFAULT_PREFIX });
    await claim.publish({ dynamoEndpoint: stack.dynamoEndpoint, s3Endpoint: stack.s3Endpoint, names: stack.names });
    return {
      deps: depsFor('local', env, { clients: stack.clients, names: stack.names }),
      note: `no sluice dev runs on ${dataDir}: started DynamoDB Local and s3rver on it for this run`,
      close: async () => {
        await stack.stop();
        await claim.release();
      },
    };
  } catch (err) {
    await claim.release();
    throw err;
  }
}

async function target(backend: RunBackend, dataDir: string, env: Env): Promise<Target> {
  if (backend === 'local') return localTarget(dataDir, env);
  const deps = depsFor('aws', env);
  return {
    deps,
    close: async () => {
      deps.clients.dynamo.destroy();
      deps.clients.s3.destroy();
    },
  };
}

/** A failure said with what to check. */
function explain(err: unknown, backend: RunBackend): Error {
  if (err instanceof MaintenanceUsageError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const hint =
    e.name === 'ResourceNotFoundException' || e.name === 'NoSuchBucket'
      ? backend === 'aws'
        ? ': check SLUICE_META_TABLE, SLUICE_LOG_TABLE, SLUICE_BUCKET and the region'
        : ': the data dir has no Sluice tables or bucket'
      : '';
  return new Error(`maintenance run failed: ${e.message}${hint}`, { cause: e });
}

/** The commander action: flags and environment → target → run → exit code (0, or 130 interrupted); throws on failure. */
export async function maintenanceRunCli(
  flags: MaintenanceRunFlags,
  env: Env = process.env,
  print: (line: string) => void = console.log,
  /** Notes about where it runs (stderr by default: stdout stays the report). */
  note: (line: string) => void = console.error,
): Promise<number> {
  const backend = flags.backend ?? 'local';
  if (!(RUN_BACKENDS as readonly string[]).includes(backend)) {
    throw new Error(
      `--backend must be one of ${RUN_BACKENDS.join(', ')} (got ${backend}); for LocalStack use --backend aws with ` +
        'SLUICE_DYNAMODB_ENDPOINT, SLUICE_S3_ENDPOINT and the SLUICE_* names (a `sluice dev --backend localstack` runs maintenance itself)',
    );
  }
  const settings = maintenanceFromEnv(env);
  const dataDir = resolve(flags.dataDir ?? env.SLUICE_DATA_DIR ?? DEV_DEFAULTS.dataDir);
  const where = await target(backend as RunBackend, dataDir, env);
  let interrupted = false;
  // A forwarded copy of the same Ctrl-C (npx) is ignored; another Ctrl-C aborts (signals.ts).
  const unregister = onStop(() => {
    interrupted = true;
    note('stopping after the current tick (again to abort now)');
  });
  try {
    if (where.note !== undefined && !flags.json) note(where.note);
    await runMaintenanceCommand(
      {
        dryRun: flags.dryRun ?? false,
        json: flags.json ?? false,
        settings,
        until: () => interrupted,
        ...(flags.topic !== undefined ? { topic: flags.topic } : {}),
      },
      where.deps,
      print,
    );
    return interrupted ? 130 : 0;
  } catch (err) {
    throw explain(err, backend as RunBackend);
  } finally {
    unregister();
    await where.close();
  }
}
