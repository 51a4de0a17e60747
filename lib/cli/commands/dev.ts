/**
 * `sluice dev`: the Hono app on @hono/node-server, against
 *   local       DynamoDB Local + s3rver, data kept under the data dir across restarts (default)
 *   localstack  LocalStack in a container (testcontainers; needs Docker)
 *   aws         real AWS: region/credentials from the environment, names from
 *               SLUICE_META_TABLE / SLUICE_LOG_TABLE / SLUICE_BUCKET, nothing created
 *
 * The command's arguments are here; the emulators are lib/local, the deps lib/env.ts depsFor.
 *
 * Maintenance: every SLUICE_MAINTENANCE_INTERVAL_MS (default 10 s, 0 = off) a run until idle
 * (lib/maintenance), on the app's own Services (merged entries are followed by its cache at
 * once); one run at a time, a failure is logged as one JSON line and the next run tries again.
 *
 * The local backend claims its data dir with an owner file (DATA_DIR_OWNER_FILE: pid and the
 * emulator endpoints): `sluice maintenance run` uses a running dev server's emulators from it,
 * and a second process never opens the same data dir (DynamoDB Local's SQLite, s3rver's crash
 * repair) while the first runs.
 *
 * Shutdown (SIGINT/SIGTERM, or the `npm start` that ran us exiting): stop the maintenance timer
 * and close the HTTP server (a maintenance run in progress stops after its tick, awaited for at
 * most MAINTENANCE_STOP_MS), stop every emulator, exit 0. The JVM is also reaped on any other
 * exit (lib/local/child-reaper.ts).
 * Repeated signals during shutdown are ignored; a hard deadline bounds it.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { Command, Option } from 'commander';
import { createApp } from '../../api/app.ts';
import { CompressionCodec, codecUnavailableReason, type CompressionName } from '../../codec/compression.ts';
import { MAINTENANCE_DEFAULTS, type MaintenanceSettings } from '../../config.ts';
import { BACKENDS, consoleLogger, isBackend, type Backend, type Logger, type SluiceDeps } from '../../deps.ts';
import { depsFor, maintenanceFromEnv, MAINTENANCE_ENV, type DepsOverrides, type Env } from '../../env.ts';
import type { Maintenance } from '../../maintenance/maintenance.ts';
import { runLine } from '../../maintenance/report-text.ts';
import { summarise } from '../../maintenance/summary.ts';
import { createMaintenance, createServices } from '../../services.ts';
import type { ResourceNames } from '../../storage/tables.ts';
import { lingerBeforeClose } from '../../local/lingering-close.ts';
import { DEFAULT_PREFIX, startLocalStack, startLocalstackStack, type LocalStack } from '../../local/local-stack.ts';
import { watchNpmAncestor } from '../../local/parent-watch.ts';

export const DEV_DEFAULTS = { port: 8080, host: '127.0.0.1', dataDir: '.sluice' } as const;
const SHUTDOWN_DEADLINE_MS = 15_000;
/** How long shutdown waits for a maintenance run in progress before stopping the emulators. */
export const MAINTENANCE_STOP_MS = 5_000;

export interface DevFlags {
  readonly backend?: string;
  readonly port?: string;
  readonly host?: string;
  readonly dataDir?: string;
}

/** The `dev` command with its arguments; the root (lib/cli/main.ts) registers it. */
export function devCommand(): Command {
  return new Command('dev')
    .description('Run the HTTP API locally (DynamoDB Local + s3rver by default; data kept across restarts)')
    .addOption(new Option('--backend <backend>', 'where data lives').choices(BACKENDS).default('local'))
    .option('--port <n>', `HTTP port (env PORT, default ${DEV_DEFAULTS.port})`)
    .option('--host <host>', `interface to listen on (default ${DEV_DEFAULTS.host})`)
    .option('--data-dir <dir>', `local backend data directory (env SLUICE_DATA_DIR, default ./${DEV_DEFAULTS.dataDir})`)
    .action(async (flags: DevFlags) => {
      process.exitCode = await runDev(devOptions(flags));
    });
}

export interface DevOptions {
  readonly backend: Backend;
  readonly port: number;
  readonly host: string;
  /** Used by the local backend only. */
  readonly dataDir: string;
  /** The environment the deps are configured by (SLUICE_AUTH_TOKEN, tuning; names for aws). */
  readonly env: Env;
}

/** Options from flags, falling back to PORT / SLUICE_DATA_DIR. */
export function devOptions(flags: DevFlags, env: Env = process.env): DevOptions {
  const backend = flags.backend ?? 'local';
  if (!isBackend(backend)) {
    throw new Error(`--backend must be one of ${BACKENDS.join(', ')} (got ${backend})`);
  }
  const portText = flags.port ?? env.PORT ?? String(DEV_DEFAULTS.port);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`invalid port: ${portText}`);
  return {
    backend,
    port,
    host: flags.host ?? DEV_DEFAULTS.host,
    dataDir: resolve(flags.dataDir ?? env.SLUICE_DATA_DIR ?? DEV_DEFAULTS.dataDir),
    env,
  };
}

interface Backing {
  /** What the backend provides instead of the environment (emulator clients and names). */
  readonly overrides: DepsOverrides;
  /** Lines describing what runs where (printed at start). */
  banner(deps: SluiceDeps): Promise<readonly string[]>;
  stop(): Promise<void>;
}

async function startBacking(opts: DevOptions): Promise<Backing> {
  switch (opts.backend) {
    case 'local': {
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
      const claim = await claimDataDir(opts.dataDir, 'sluice dev');
      let stack: LocalStack;
      try {
        stack = await startLocalStack({ dataDir: opts.dataDir, prefix: DEFAULT_PREFIX });
      } catch (err) {
        await claim.release();
        throw err;
      }
      await claim.publish({ dynamoEndpoint: stack.dynamoEndpoint, s3Endpoint: stack.s3Endpoint, names: stack.names }).catch(async (err: unknown) => {
        await stack.stop();
        await claim.release();
        throw err;
      });
      return {
        overrides: { clients: stack.clients, names: stack.names },
        banner: async () => [
          `  DynamoDB Local  ${stack.dynamoEndpoint} (pid ${stack.dynamoPid})`,
          `  S3 (s3rver)     ${stack.s3Endpoint}`,
          `  data            ${opts.dataDir}`,
        ],
        stop: async () => {
          await stack.stop();
          await claim.release();
        },
      };
    }
    case 'localstack': {
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
      const stack = await startLocalstackStack({ prefix: DEFAULT_PREFIX });
      return {
        overrides: { clients: stack.clients, names: stack.names },
        banner: async () => [`  LocalStack      ${stack.endpoint} (data is discarded on exit)`],
        stop: stack.stop,
      };
    }
    case 'aws': {
      return {
        overrides: {}, // names, region and credentials from the environment
        banner: async ({ clients, names }) => [
          `  AWS             region ${await clients.dynamo.config.region()}`,
          `  tables          ${names.tables.meta}, ${names.tables.log}; bucket ${names.bucket}`,
        ],
        stop: async () => undefined,
      };
    }
  }
}

/** A line per compression codec this process cannot run (an optional native package missing). */
function missingCodecs(): string[] {
  return (Object.keys(CompressionCodec) as CompressionName[]).flatMap((name) => {
    const reason = codecUnavailableReason(CompressionCodec[name]);
    return reason === undefined ? [] : [`  ${name.padEnd(16)}${reason}`];
  });
}

function portInUse(port: number, host: string): Error {
  return new Error(`port ${port} on ${host} is already in use: pick another with --port N or PORT=N`);
}

/** Fails fast on a busy port, before spending seconds starting emulators. */
async function assertPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolveProbe, rejectProbe) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      rejectProbe(err.code === 'EADDRINUSE' ? portInUse(port, host) : err),
    );
    probe.listen(port, host, () => probe.close(() => resolveProbe()));
  });
}

/**
 * The banner's "Try:" lines for `host:port`. With a token, the header to add: in double quotes,
 * so that the shell expands $SLUICE_AUTH_TOKEN (single quotes would send it literally).
 */
export function tryLines(curlBase: string, withToken: boolean): string[] {
  return [
    'Try:',
    `  curl -s ${curlBase}/healthz`,
    `  curl -s -XPOST ${curlBase}/v1/topics -H 'content-type: application/json' -d '{"name":"demo","partitions":3}'`,
    ...(withToken ? [`  (add -H "authorization: Bearer $SLUICE_AUTH_TOKEN" on /v1 routes)`] : []),
  ];
}

/**
 * The web console (docs/CONSOLE.md) is served from dist/console. In a checkout it is built here
 * when missing or older than its sources (a fresh clone, an edit), by scripts/build-console.mjs
 * (esbuild, well under a second); an installed package ships it built. Answers the banner line;
 * a failed build is reported there and the API still starts.
 */
export async function ensureConsole(): Promise<(base: string) => string> {
  const script = fileURLToPath(new URL('../../../scripts/build-console.mjs', import.meta.url));
  const sources = fileURLToPath(new URL('../../../console/main.tsx', import.meta.url));
  const line = (base: string) => `  console         ${base}/console`;
  if (!existsSync(script) || !existsSync(sources)) return line;
  const startedAt = Date.now();
  try {
    const mod = (await import(pathToFileURL(script).href)) as { consoleIsStale(): boolean; buildConsole(): Promise<unknown> };
    if (!mod.consoleIsStale()) return line;
    await mod.buildConsole();
    const ms = Date.now() - startedAt;
    return (base) => `${line(base)} (built in ${ms} ms)`;
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0];
    return () => `  console         not built (${reason}): try npm run build:console`;
  }
}

/** Runs until SIGINT/SIGTERM; resolves with the process exit code. */
export async function runDev(opts: DevOptions): Promise<number> {
  const startedAt = Date.now();
  // Before any emulator starts: a bad SLUICE_MAINTENANCE_* value fails fast.
  const maintenanceSettings = maintenanceFromEnv(opts.env);
  await assertPortFree(opts.port, opts.host);
  const consoleBuilt = ensureConsole(); // while the emulators start
  const backing = await startBacking(opts);
  let deps: SluiceDeps;
  let banner: readonly string[];
  try {
    deps = depsFor(opts.backend, opts.env, backing.overrides);
    banner = await backing.banner(deps);
  } catch (err) {
    await backing.stop();
    throw err;
  }
  const services = createServices(deps);
  const app = createApp(deps, services);
  const maintenance = createMaintenance(deps, maintenanceSettings, services);

  let server: ReturnType<typeof serve>;
  try {
    server = await new Promise<ReturnType<typeof serve>>((resolveListen, rejectListen) => {
      const s = serve({ fetch: app.fetch, port: opts.port, hostname: opts.host }, () => resolveListen(s));
      lingerBeforeClose(s); // an early 413 must not reset a client still sending
      s.once('error', rejectListen);
    });
  } catch (err) {
    await backing.stop();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUse(opts.port, opts.host);
    throw err;
  }

  const timer = startMaintenanceTimer(maintenance, maintenance.settings.intervalMs, deps.logger ?? consoleLogger);

  const { port } = server.address() as AddressInfo;
  const shownHost = opts.host === '127.0.0.1' || opts.host === '0.0.0.0' ? 'localhost' : opts.host;
  const base = `http://${shownHost}:${port}`;
  const consoleLine = (await consoleBuilt)(base);
  const curlBase = `${shownHost}:${port}`;
  console.log(
    [
      `sluice dev (backend ${opts.backend}) ready in ${Date.now() - startedAt} ms: ${base}`,
      ...banner,
      consoleLine,
      `  maintenance     ${maintenanceBanner(maintenance.settings)}`,
      ...missingCodecs(),
      '',
      ...tryLines(curlBase, deps.authToken !== undefined),
      '',
      'Ctrl-C to stop.',
    ].join('\n'),
  );

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const shutdown = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      console.log(`\n${signal}: stopping`);
      const deadline = setTimeout(() => {
        console.error(`shutdown took longer than ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting anyway`);
        resolveExit(1);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      void (async () => {
        await Promise.all([
          // A run in progress stops after its tick; the emulators stay up until it has.
          timer.stop(MAINTENANCE_STOP_MS),
          new Promise<void>((r) => {
            server.close(() => r());
            // Idle keep-alive connections would hold close() open.
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
        ]);
        await backing.stop();
        clearTimeout(deadline);
        resolveExit(0);
      })().catch((err: unknown) => {
        console.error('error while stopping:', err);
        clearTimeout(deadline);
        resolveExit(1);
      });
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
    // `kill <npm pid>` after `npm start` never reaches us: see parent-watch.ts.
    watchNpmAncestor(() => shutdown('SIGTERM'));
  });
}

// ---- maintenance timer ----------------------------------------------------------------------

function maintenanceBanner(settings: MaintenanceSettings): string {
  const env = MAINTENANCE_ENV.intervalMs;
  if (settings.intervalMs === 0) return `off (${env}=0); run it by hand: sluice maintenance run`;
  return `runs every ${settings.intervalMs / 1000} s (${env}, default ${MAINTENANCE_DEFAULTS.intervalMs / 1000} s; 0 turns it off)`;
}

export interface MaintenanceTimer {
  /** Clears the timer; a run in progress stops after its tick and is awaited for at most `timeoutMs`. */
  stop(timeoutMs: number): Promise<void>;
}

/**
 * Runs `maintenance.runUntilIdle()` `intervalMs` after the previous run ended (never two at
 * once); 0 = never. A failed run is logged as one JSON line and the next one tries again; a
 * run that changed something prints one line.
 */
export function startMaintenanceTimer(
  maintenance: Pick<Maintenance, 'runUntilIdle'>,
  intervalMs: number,
  logger: Logger,
  print: (line: string) => void = console.log,
): MaintenanceTimer {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const schedule = (): void => {
    if (stopped || intervalMs <= 0) return;
    timer = setTimeout(run, intervalMs);
    timer.unref();
  };
  const run = (): void => {
    timer = undefined;
    running = (async () => {
      try {
        const reports = await maintenance.runUntilIdle({}, { until: () => stopped });
        const line = runLine(summarise(reports));
        if (line !== undefined) print(line);
      } catch (err) {
        // Cut off by shutdown (the emulators stopping under it) is expected: every step is safe to stop.
        if (stopped) return;
        logger.error('maintenance run failed', { err: String(err), cause: String((err as Error)?.cause ?? '') });
      }
    })().finally(() => {
      running = undefined;
      schedule();
    });
  };
  schedule();
  return {
    async stop(timeoutMs) {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      const inFlight = running;
      if (inFlight === undefined) return;
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([inFlight, new Promise<void>((r) => (bound = setTimeout(r, timeoutMs)))]);
      clearTimeout(bound);
    },
  };
}

// ---- the data dir's owner -------------------------------------------------------------------

/** In a local data dir while a process runs emulators on it: who, and where they answer. */
export const DATA_DIR_OWNER_FILE = 'sluice-owner.json';

export interface DataDirOwner {
  readonly pid: number;
  /** `sluice dev` or `sluice maintenance run`. */
  readonly command: string;
  readonly startedAt: number;
  /** Set once the emulators answer (absent while they start). */
  readonly dynamoEndpoint?: string;
  readonly s3Endpoint?: string;
  readonly names?: ResourceNames;
}

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: DataDirOwner,
  ) {
    super(
      `${dataDir} is in use by ${owner.command} (pid ${owner.pid}): one process at a time runs the emulators on a data dir. ` +
        `Stop it, or use another --data-dir. If no such process runs, delete ${join(dataDir, DATA_DIR_OWNER_FILE)}.`,
    );
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false; // our own pid: a stale file from a reused pid
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live owner of `dataDir`, or undefined (no file, unreadable, or its process is gone). */
export async function dataDirOwner(dataDir: string): Promise<DataDirOwner | undefined> {
  let owner: DataDirOwner;
  try {
    owner = JSON.parse(await readFile(join(dataDir, DATA_DIR_OWNER_FILE), 'utf8')) as DataDirOwner;
  } catch {
    return undefined;
  }
  return processAlive(owner.pid) ? owner : undefined;
}

export interface DataDirClaim {
  /** Records where the emulators answer (for `sluice maintenance run`). */
  publish(where: Required<Pick<DataDirOwner, 'dynamoEndpoint' | 's3Endpoint' | 'names'>>): Promise<void>;
  /** Removes the owner file if it is still ours (idempotent). */
  release(): Promise<void>;
}

/** Claims `dataDir` for this process; DataDirInUseError when a live process holds it. A stale file is replaced. */
export async function claimDataDir(dataDir: string, command: string): Promise<DataDirClaim> {
  const file = join(dataDir, DATA_DIR_OWNER_FILE);
  await mkdir(dataDir, { recursive: true });
  const mine: DataDirOwner = { pid: process.pid, command, startedAt: Date.now() };
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(file, JSON.stringify(mine), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const owner = await dataDirOwner(dataDir);
      if (owner !== undefined) throw new DataDirInUseError(dataDir, owner);
      await rm(file, { force: true }); // left by a process that was killed
    }
  }
  let released = false;
  return {
    async publish(where) {
      if (!released) await writeFile(file, JSON.stringify({ ...mine, ...where }));
    },
    async release() {
      if (released) return;
      released = true;
      const current = await readFile(file, 'utf8').then((t) => JSON.parse(t) as DataDirOwner, () => undefined);
      if (current?.pid === process.pid) await rm(file, { force: true });
    },
  };
}
