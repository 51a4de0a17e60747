/**
 * An S3-compatible server (s3rver) in this process, on 127.0.0.1 and a random port.
 *
 * Known s3rver faults and how we live with them (also in docs/LOCAL-DEV.md):
 *  - Paginated ListObjectsV2 answers 500: s3rver encrypts continuation tokens with single DES,
 *    which OpenSSL 3 refuses. `installDesShim()` maps `des` to `des-ede3-cbc` with key k‖k‖k,
 *    which is the same cipher (EDE with three equal keys is single DES), so tokens stay valid.
 *  - Streamed bodies with the SDK's default flexible checksums are stored WITH their
 *    `aws-chunked` framing: our S3 client sends checksums only WHEN_REQUIRED (clients.ts).
 *  - Conditional PutObject headers are ignored; suffix ranges are wrong: do not rely on them.
 *  - An interrupted PutObject (this process killed mid-write) leaves a truncated metadata file,
 *    after which every listing of the bucket, HeadBucket included, answers 500:
 *    `removeIncompleteObjects()` runs before a start on a persistent directory unless the
 *    previous run stopped cleanly.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  readonly httpServer?: Server;
}
type S3rverConstructor = new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
}) => S3rverInstance;

export interface S3ServerOptions {
  /** Where objects live; undefined = a fresh temp dir, removed on stop. */
  readonly directory?: string | undefined;
  /** Told what a start after a crash repaired (default: one line on stderr). */
  readonly onRepair?: ((message: string) => void) | undefined;
}

export interface S3Server {
  readonly endpoint: string;
  readonly port: number;
  readonly directory: string;
  stop(): Promise<void>;
}

let desShimInstalled = false;

/**
 * Makes `createCipheriv/createDecipheriv('des', k, iv)` work under OpenSSL 3. Installed once,
 * only by the process that runs s3rver, and only if single DES is really unavailable; every
 * other algorithm goes straight to the original functions.
 */
export function installDesShim(): void {
  if (desShimInstalled) return;
  desShimInstalled = true;
  // The CommonJS module object: the one s3rver's `require('crypto')` sees.
  const crypto = require('node:crypto') as typeof import('node:crypto');
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return; // legacy provider loaded (e.g. --openssl-legacy-provider): nothing to do
  } catch {
    // unsupported: shim below
  }
  type CipherFactory = (algorithm: string, key: Buffer, iv: Buffer, ...rest: unknown[]) => unknown;
  const wrap = (original: CipherFactory): CipherFactory =>
    function (this: unknown, algorithm, key, iv, ...rest) {
      if (typeof algorithm === 'string' && algorithm.toLowerCase() === 'des' && key.length === 8) {
        return original.call(this, 'des-ede3-cbc', Buffer.concat([key, key, key]), iv, ...rest);
      }
      return original.call(this, algorithm, key, iv, ...rest);
    };
  const mutable = crypto as unknown as Record<'createCipheriv' | 'createDecipheriv', CipherFactory>;
  mutable.createCipheriv = wrap(mutable.createCipheriv);
  mutable.createDecipheriv = wrap(mutable.createDecipheriv);
}

const OBJECT_SUFFIX = '._S3rver_object';
const MD5_SUFFIX = '._S3rver_object.md5';
const METADATA_SUFFIX = '._S3rver_metadata.json';
const CHECK_CONCURRENCY = 32;

/**
 * Removes the objects whose PutObject never finished from an s3rver directory; returns their
 * paths (without suffix). Run it while no s3rver serves the directory.
 *
 * s3rver stores an object as `<key>._S3rver_object`, then `.md5`, then
 * `<key>._S3rver_metadata.json`, with plain writes, and answers the PUT once the last is done. A
 * process killed in between (the dev server SIGKILLed, or exiting with a PUT still running)
 * leaves an object without metadata, or with a metadata file that is empty or cut short. The
 * latter breaks every listing of the bucket: s3rver reads each listed object's metadata and
 * answers 500 on one that does not parse, and it answers HeadBucket by listing the bucket, so
 * the dev server could not start again. Such a PUT was never acknowledged; removing its files
 * leaves what S3 would show, an object that never existed.
 */
export async function removeIncompleteObjects(directory: string): Promise<string[]> {
  const removed: string[] = [];
  // Objects to check, found by the walk; checked CHECK_CONCURRENCY at a time (a big data dir
  // holds tens of thousands, and unbounded parallel reads would run out of file descriptors).
  const candidates: { base: string; hasMetadata: boolean }[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    const names = new Set(entries.map((e) => e.name));
    const subdirs: string[] = [];
    for (const entry of entries) {
      if (entry.isDirectory()) subdirs.push(join(dir, entry.name));
      else if (entry.name.endsWith(OBJECT_SUFFIX)) {
        const name = entry.name.slice(0, -OBJECT_SUFFIX.length);
        candidates.push({ base: join(dir, name), hasMetadata: names.has(name + METADATA_SUFFIX) });
      }
    }
    for (const sub of subdirs) await walk(sub);
  };
  await walk(directory);
  const check = async ({ base, hasMetadata }: (typeof candidates)[number]): Promise<void> => {
    if (hasMetadata) {
      try {
        JSON.parse(await readFile(base + METADATA_SUFFIX, 'utf8'));
        return;
      } catch {
        // empty or cut short: the PUT did not finish
      }
    }
    await Promise.all([OBJECT_SUFFIX, MD5_SUFFIX, METADATA_SUFFIX].map((suffix) => rm(base + suffix, { force: true })));
    removed.push(base);
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: CHECK_CONCURRENCY }, async () => {
      while (next < candidates.length) await check(candidates[next++]!);
    }),
  );
  return removed;
}

/**
 * Written to a persistent directory when s3rver stopped with no store call running; removed
 * at start. Without it, the previous run may have been killed mid-write, and the directory is
 * checked with removeIncompleteObjects() (about 0.05 ms per object) before s3rver serves it.
 * A file at the root is not a bucket to s3rver (buckets are its directories).
 */
const CLEAN_STOP_MARKER = '.sluice-clean-stop';
/**
 * Store calls take milliseconds; one that has not finished by then never will (s3rver never
 * finishes an upload whose connection closed mid-body), and its object is left to the check.
 */
const DRAIN_TIMEOUT_MS = 1_000;

/**
 * Counts the s3rver store calls (file I/O behind each request) that are running; the returned
 * function resolves true once none is, or false after `timeoutMs`. Closing the HTTP server does
 * not wait for them: a request whose socket was closed keeps writing. Relies on s3rver 3.x
 * keeping its FilesystemStore as `store`; without one it always answers false.
 */
function trackStoreCalls(server: S3rverInstance): (timeoutMs: number) => Promise<boolean> {
  const store = (server as unknown as { store?: Record<string, unknown> }).store;
  if (store === undefined || store === null) return async () => false;
  let running = 0;
  let onIdle: (() => void) | undefined;
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(store))) {
    const original = store[name];
    if (name === 'constructor' || typeof original !== 'function') continue;
    store[name] = function (this: unknown, ...args: unknown[]): unknown {
      const result: unknown = (original as (...a: unknown[]) => unknown).apply(this, args);
      if (!(result instanceof Promise)) return result;
      running++;
      return result.finally(() => {
        if (--running === 0) onIdle?.();
      });
    };
  }
  return (timeoutMs) =>
    running === 0
      ? Promise.resolve(true)
      : new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), timeoutMs);
          onIdle = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
}

export async function startS3Server(opts: S3ServerOptions = {}): Promise<S3Server> {
  installDesShim();
  // Loaded lazily: s3rver is a dev dependency, only needed when emulating S3.
  const S3rver = require('s3rver') as S3rverConstructor;
  const temporary = opts.directory === undefined;
  const directory = opts.directory ?? (await mkdtemp(join(tmpdir(), 'sluice-s3-')));
  await mkdir(directory, { recursive: true });
  const marker = join(directory, CLEAN_STOP_MARKER);
  if (!temporary) {
    if (existsSync(marker)) {
      await rm(marker, { force: true }); // clean only again once this run stops cleanly
    } else {
      const removed = await removeIncompleteObjects(directory);
      if (removed.length > 0) {
        const report = opts.onRepair ?? ((message: string) => console.warn(message));
        report(`s3rver: removed ${removed.length} object(s) whose upload never finished (the previous run was killed mid-write)`);
      }
    }
  }
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const drained = trackStoreCalls(server);
  const { port } = await server.run();
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    directory,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Keep-alive sockets from SDK clients would hold close() open.
      server.httpServer?.closeAllConnections();
      await server.close();
      if (temporary) await rm(directory, { recursive: true, force: true });
      else if (await drained(DRAIN_TIMEOUT_MS)) await writeFile(marker, '');
    },
  };
}
