/**
 * DynamoDB Local (AWS's own emulator, a Java jar) provisioned from the npm registry and run as
 * a child process.
 *
 * Provisioning: the jar ships inside `amplify-dynamodb-simulator` (its `emulator/` folder).
 * Installing that package pulls ~350 MB of Amplify dependencies, so instead, on first use,
 * we `npm pack` the pinned version (~56 MB, ~3 s), check the tarball against the pinned
 * sha512 integrity, and extract only `package/emulator` into the per-user cache directory
 * (cache-dir.ts). Extraction goes to a temp dir that is renamed into place, so the cache entry
 * either exists complete or not at all, and two processes racing to provision it are both fine.
 *
 * Running: `java -jar DynamoDBLocal.jar -sharedDb ...` on a free port. `-sharedDb` matters:
 * without it tables are private to one access key + region. Ready when ListTables answers.
 * DynamoDB Local writes `dynamodb-local-metadata.json` into its working directory, so the JVM
 * runs in the `-dbPath` directory (in memory: a temp dir, removed when it stops), never in
 * the caller's.
 * The JVM is registered with child-reaper.ts, so it is stopped (SIGTERM, then SIGKILL after a
 * grace period) when this process exits or dies.
 *
 * Durability with `-dbPath`: DynamoDB Local keeps its data in SQLite (sqlite4java, SQLite 3.8.7,
 * default pragmas: rollback journal, synchronous=FULL) and has no option about it. Single-item
 * writes commit before they are answered; TransactWriteItems is answered before its COMMIT runs,
 * which local-stack.ts makes up for.
 */
import { spawn, spawnSync, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CACHE_DIR_ENV, userCacheDir } from './cache-dir.ts';
import { reapOnExit } from './child-reaper.ts';

const execFileAsync = promisify(execFile);

export const DYNAMODB_LOCAL = {
  /** The DynamoDB Local version inside the package below (names the cache entry). */
  version: '1.25.1',
  npmPackage: 'amplify-dynamodb-simulator@2.9.30',
  integrity:
    'sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ==',
  minJavaMajor: 17,
} as const;

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_BYTES = 8_192;

/** Java is missing or too old to run DynamoDB Local. The message says how to fix it. */
export class JavaUnavailableError extends Error {
  readonly code = 'JAVA_UNAVAILABLE';
  /** The java binary we tried. */
  readonly javaBin: string;
  /** The version we found, when java ran at all. */
  readonly foundVersion: string | undefined;

  constructor(javaBin: string, foundVersion: string | undefined) {
    const problem =
      foundVersion === undefined
        ? `Java was not found (tried "${javaBin}").`
        : `Java ${foundVersion} at "${javaBin}" is too old.`;
    super(
      `${problem} DynamoDB Local needs Java ${DYNAMODB_LOCAL.minJavaMajor} or newer. Install it:\n` +
        `  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n` +
        `  macOS:         brew install openjdk@17\n` +
        `  otherwise:     any JDK/JRE 17+ on PATH, or set JAVA_HOME (or SLUICE_JAVA_BIN) to it.`,
    );
    this.name = 'JavaUnavailableError';
    this.javaBin = javaBin;
    this.foundVersion = foundVersion;
  }
}

// ---- Java ---------------------------------------------------------------------------

/** SLUICE_JAVA_BIN, else $JAVA_HOME/bin/java, else `java` on PATH. */
export function resolveJavaBin(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SLUICE_JAVA_BIN) return env.SLUICE_JAVA_BIN;
  if (env.JAVA_HOME) {
    const candidate = join(env.JAVA_HOME, 'bin', process.platform === 'win32' ? 'java.exe' : 'java');
    if (existsSync(candidate)) return candidate;
  }
  return 'java';
}

/** `"17.0.15"` → 17, `"1.8.0_292"` → 8. */
export function javaMajorVersion(version: string): number {
  const parts = version.split(/[._+-]/);
  const first = Number(parts[0]);
  return first === 1 ? Number(parts[1]) : first;
}

/** Checks that Java 17+ runs; returns the binary to use. Throws JavaUnavailableError. */
export function checkJava(env: NodeJS.ProcessEnv = process.env): string {
  const javaBin = resolveJavaBin(env);
  const result = spawnSync(javaBin, ['-version'], { encoding: 'utf8', timeout: 15_000, env });
  if (result.error || result.status !== 0) throw new JavaUnavailableError(javaBin, undefined);
  const output = `${result.stderr}\n${result.stdout}`;
  const version = /version "([^"]+)"/.exec(output)?.[1];
  if (version === undefined) throw new JavaUnavailableError(javaBin, undefined);
  if (!(javaMajorVersion(version) >= DYNAMODB_LOCAL.minJavaMajor)) {
    throw new JavaUnavailableError(javaBin, version);
  }
  return javaBin;
}

// ---- Provisioning --------------------------------------------------------------------

/** The per-user cache directory (cache-dir.ts): `$SLUICE_CACHE_DIR`, else the platform's. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return userCacheDir(env);
}

async function sha512Integrity(file: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha512-${hash.digest('base64')}`;
}

/**
 * Returns the emulator directory (DynamoDBLocal.jar + DynamoDBLocal_lib/), provisioning it
 * from the npm registry on first use.
 */
export async function ensureDynamoDbLocal(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const root = cacheRoot(env);
  const target = join(root, `dynamodb-local-${DYNAMODB_LOCAL.version}`);
  if (existsSync(join(target, 'DynamoDBLocal.jar'))) return target;

  await mkdir(root, { recursive: true }).catch((err: unknown) => {
    throw new Error(
      `cannot create the cache directory ${root} for DynamoDB Local (${errorText(err)}): ` +
        `point ${CACHE_DIR_ENV} at a writable directory`,
      { cause: err },
    );
  });
  // Same filesystem as `target`, so the final rename is atomic.
  const work = await mkdtemp(join(root, '.provision-'));
  try {
    await execFileAsync(
      'npm',
      ['pack', DYNAMODB_LOCAL.npmPackage, '--pack-destination', work, '--silent', '--ignore-scripts'],
      { cwd: work, maxBuffer: 16 * 1024 * 1024, shell: process.platform === 'win32' },
    ).catch((err: unknown) => {
      throw new Error(`npm pack ${DYNAMODB_LOCAL.npmPackage} failed: ${errorText(err)}`, { cause: err });
    });
    const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`npm pack ${DYNAMODB_LOCAL.npmPackage} produced no tarball`);
    const integrity = await sha512Integrity(join(work, tarball));
    if (integrity !== DYNAMODB_LOCAL.integrity) {
      throw new Error(
        `${DYNAMODB_LOCAL.npmPackage}: integrity mismatch (expected ${DYNAMODB_LOCAL.integrity}, got ${integrity}); refusing to use it`,
      );
    }
    await execFileAsync('tar', ['-xzf', join(work, tarball), '-C', work, 'package/emulator']);
    try {
      await rename(join(work, 'package', 'emulator'), target);
    } catch (err) {
      // Another process won the race: its copy is complete (renames are atomic).
      if (!existsSync(join(target, 'DynamoDBLocal.jar'))) throw err;
    }
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// ---- Running -------------------------------------------------------------------------

export interface DynamoDbLocalOptions {
  /** Persist tables under this directory (`-dbPath`); undefined = in memory. */
  readonly dbPath?: string | undefined;
  /** Fixed port; default: a free one. */
  readonly port?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  /** The JVM's pid (reported by `sluice dev`, checked by tests). */
  readonly pid: number;
  /** SIGTERM, then SIGKILL after a grace period; resolves when the JVM is gone. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startDynamoDbLocal(opts: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const env = opts.env ?? process.env;
  const javaBin = checkJava(env);
  const emulator = await ensureDynamoDbLocal(env);
  // Absolute: the JVM runs in another working directory (below).
  const dbPath = opts.dbPath === undefined ? undefined : resolve(opts.dbPath);
  if (dbPath !== undefined) await mkdir(dbPath, { recursive: true });
  // The JVM's working directory, where DynamoDB Local writes dynamodb-local-metadata.json.
  const workDir = dbPath ?? (await mkdtemp(join(tmpdir(), 'sluice-dynamodb-')));
  const removeWorkDir = async (): Promise<void> => {
    if (dbPath === undefined) await rm(workDir, { recursive: true, force: true });
  };
  // A free port can be taken between our probe and the JVM's bind: retry with another one.
  const attempts = opts.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = opts.port ?? (await freePort());
    try {
      const running = await launch(javaBin, emulator, port, dbPath, workDir, env);
      return {
        ...running,
        async stop() {
          await running.stop();
          await removeWorkDir();
        },
      };
    } catch (err) {
      lastError = err;
      if (!(err instanceof EarlyExitError)) break;
    }
  }
  await removeWorkDir();
  throw lastError;
}

class EarlyExitError extends Error {}

async function launch(
  javaBin: string,
  emulator: string,
  port: number,
  dbPath: string | undefined,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<DynamoDbLocal> {
  const args = [
    // Faster JVM start, less memory; DynamoDB Local is I/O- not JIT-bound in our tests.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(emulator, 'DynamoDBLocal.jar'),
    '-sharedDb',
    '-disableTelemetry',
    '-port',
    String(port),
    ...(dbPath === undefined ? ['-inMemory'] : ['-dbPath', dbPath]),
  ];
  const child = spawn(javaBin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: false, env });
  reapOnExit(child);
  let output = '';
  const keepTail = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (err) => {
      keepTail(Buffer.from(String(err)));
      exited ??= { code: null, signal: null };
      resolve();
    });
  });

  const stop = async (): Promise<void> => {
    if (exited !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exitPromise;
    clearTimeout(timer);
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const probe = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (exited !== undefined) {
        throw new EarlyExitError(
          `DynamoDB Local exited before it was ready (code ${exited.code}, signal ${exited.signal}):\n${output}`,
        );
      }
      try {
        await probe.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
        break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`DynamoDB Local was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    probe.destroy();
  }
  // Past readiness nobody reads the output: drop it rather than buffer it forever.
  child.stdout?.removeListener('data', keepTail).resume();
  child.stderr?.removeListener('data', keepTail).resume();
  return { endpoint, port, pid: child.pid ?? -1, stop };
}

function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'stderr' in err && typeof err.stderr === 'string' && err.stderr) {
    return err.stderr.trim();
  }
  return err instanceof Error ? err.message : String(err);
}
