/**
 * An S3-compatible server (s3rver) in this process, on 127.0.0.1 and a random port.
 *
 * Known s3rver faults and how we live with them (details in shared LOCAL-STACK.md):
 *  - Paginated ListObjectsV2 answers 500: s3rver encrypts continuation tokens with single DES,
 *    which OpenSSL 3 refuses. `installDesShim()` maps `des` to `des-ede3-cbc` with key k‖k‖k,
 *    which is the same cipher (EDE with three equal keys is single DES), so tokens stay valid.
 *  - Streamed bodies with the SDK's default flexible checksums are stored WITH their
 *    `aws-chunked` framing: our S3 client sends checksums only WHEN_REQUIRED (clients.ts).
 *  - Conditional PutObject headers are ignored; suffix ranges are wrong: do not rely on them.
 */
import { createRequire } from 'node:module';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
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

export async function startS3Server(opts: S3ServerOptions = {}): Promise<S3Server> {
  installDesShim();
  // Loaded lazily: s3rver is a dev dependency, only needed when emulating S3.
  const S3rver = require('s3rver') as S3rverConstructor;
  const temporary = opts.directory === undefined;
  const directory = opts.directory ?? (await mkdtemp(join(tmpdir(), 'sluice-s3-')));
  await mkdir(directory, { recursive: true });
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
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
    },
  };
}
