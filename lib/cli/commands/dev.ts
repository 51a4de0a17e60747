/**
 * `sluice dev`: the Hono app on @hono/node-server, against
 *   local       DynamoDB Local + s3rver, data kept under the data dir across restarts (default)
 *   localstack  LocalStack in a container (testcontainers; needs Docker)
 *   aws         real AWS: region/credentials from the environment, names from
 *               SLUICE_META_TABLE / SLUICE_LOG_TABLE / SLUICE_BUCKET, nothing created
 *
 * The command's arguments are here; the emulators are lib/local, the deps lib/env.ts depsFor.
 *
 * Shutdown (SIGINT/SIGTERM, or the `npm start` that ran us exiting): close the HTTP server,
 * stop every emulator, exit 0. The JVM is also reaped on any other exit (lib/local/child-reaper.ts).
 * Repeated signals during shutdown are ignored; a hard deadline bounds it.
 */
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { Command, Option } from 'commander';
import { createApp } from '../../api/app.ts';
import { CompressionCodec, codecUnavailableReason, type CompressionName } from '../../codec/compression.ts';
import { BACKENDS, isBackend, type Backend, type SluiceDeps } from '../../deps.ts';
import { depsFor, type DepsOverrides, type Env } from '../../env.ts';
import { lingerBeforeClose } from '../../local/lingering-close.ts';
import { DEFAULT_PREFIX, startLocalStack, startLocalstackStack } from '../../local/local-stack.ts';
import { watchNpmAncestor } from '../../local/parent-watch.ts';

export const DEV_DEFAULTS = { port: 8080, host: '127.0.0.1', dataDir: '.sluice' } as const;
const SHUTDOWN_DEADLINE_MS = 15_000;

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
      const stack = await startLocalStack({ dataDir: opts.dataDir, prefix: DEFAULT_PREFIX });
      return {
        overrides: { clients: stack.clients, names: stack.names },
        banner: async () => [
          `  DynamoDB Local  ${stack.dynamoEndpoint} (pid ${stack.dynamoPid})`,
          `  S3 (s3rver)     ${stack.s3Endpoint}`,
          `  data            ${opts.dataDir}`,
        ],
        stop: stack.stop,
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

/** Runs until SIGINT/SIGTERM; resolves with the process exit code. */
export async function runDev(opts: DevOptions): Promise<number> {
  const startedAt = Date.now();
  await assertPortFree(opts.port, opts.host);
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
  const app = createApp(deps);

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

  const { port } = server.address() as AddressInfo;
  const shownHost = opts.host === '127.0.0.1' || opts.host === '0.0.0.0' ? 'localhost' : opts.host;
  const base = `http://${shownHost}:${port}`;
  const curlBase = `${shownHost}:${port}`;
  console.log(
    [
      `sluice dev (backend ${opts.backend}) ready in ${Date.now() - startedAt} ms: ${base}`,
      ...banner,
      ...missingCodecs(),
      '',
      'Try:',
      `  curl -s ${curlBase}/healthz`,
      `  curl -s -XPOST ${curlBase}/v1/topics -H 'content-type: application/json' -d '{"name":"demo","partitions":3}'`,
      ...(deps.authToken !== undefined ? [`  (add -H 'authorization: Bearer $SLUICE_AUTH_TOKEN' on /v1 routes)`] : []),
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
        await new Promise<void>((r) => {
          server.close(() => r());
          // Idle keep-alive connections would hold close() open.
          if ('closeAllConnections' in server) server.closeAllConnections();
        });
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
