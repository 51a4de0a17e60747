/**
 * The BUILT Lambda bundle, not the TypeScript: functions/api built with the construct's own
 * settings (infra/constructs/bundling.ts, the module SluiceFunction's `bundling` comes from),
 * then run in a fresh Node process (no tsx) against the shared emulator stack.
 *
 *  0. SluiceFunction's own CDK asset (local bundling, as `cdk synth` does it) has the same
 *     index.mjs, byte for byte, and the same files: the construct and this test cannot drift.
 *  1. The asset as shipped (arm64): index.mjs ≤ 1 MB with no source map, and the arm64 glibc
 *     binaries of snappy, lz4-napi (and @node-rs/crc32) at the paths their index.js loaders require on
 *     linux/arm64/glibc (ELF, AArch64), no x64 binary, no zstd-napi.
 *  2. This machine is x64 and cannot load an arm64 binary, so the SAME index.mjs (copied, byte
 *     for byte) gets the same install for x64 — the one thing that differs per architecture —
 *     and serves produce + fetch for none, gzip, snappy, lz4 and zstd topics through API
 *     Gateway v2 events. zstd comes from node:zlib on Lambda (Node 22.15+/24); on a Node here
 *     without it, the repository's zstd-napi is copied into this x64 copy only, as a stand-in.
 *  3. The same index.mjs without the codec packages: a fetch of stored snappy/lz4 batches and
 *     a produce to such a topic answer 500 UNKNOWN_SERVER_ERROR naming the missing package,
 *     never CORRUPT_MESSAGE.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BUNDLE, buildLambdaBundle, installConsole, installNatives, NATIVE_MODULES, nativeBinaryPaths } from '../../infra/constructs/bundling.ts';
import { RESOURCE_ENV, resourceNames } from '../../lib/storage/tables.ts';
import { apiGatewayV2Event, functionUrlEvent, type ApiGatewayV2EventOptions } from '../support/apigw-event.ts';
import { startBundleProcess, type BundleProcess } from '../support/bundle-process.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const root = path.join(REPO, '.cache', `lambda-bundle-test-${randomBytes(4).toString('hex')}`);
const arm64Dir = path.join(root, 'arm64');
const x64Dir = path.join(root, 'x64');
const bareDir = path.join(root, 'x64-no-codecs');
const hasZlibZstd = typeof (zlib as unknown as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const topicFor = (codec: string) => `bundle-${codec}-${randomBytes(4).toString('hex')}`;
const topics = Object.fromEntries(CODECS.map((c) => [c, topicFor(c)])) as Record<(typeof CODECS)[number], string>;
// Compressible values, large enough that every codec stores compressed blocks.
const values = Array.from({ length: 20 }, (_, i) => JSON.stringify({ i, text: 'sluice '.repeat(300), n: i * 7 }));

let full: BundleProcess | undefined;
let bare: BundleProcess | undefined;

function env(): Record<string, string> {
  const stack = inject('sluiceStack');
  const names = resourceNames(stack.prefix, stack.bucket);
  return {
    [RESOURCE_ENV.metaTable]: names.tables.meta,
    [RESOURCE_ENV.logTable]: names.tables.log,
    [RESOURCE_ENV.bucket]: names.bucket,
    SLUICE_DYNAMODB_ENDPOINT: stack.dynamoEndpoint,
    SLUICE_S3_ENDPOINT: stack.s3Endpoint,
    SLUICE_BACKEND: 'local',
    SLUICE_AUTH_TOKEN: '',
    AWS_REGION: 'us-east-1',
  };
}

async function call(p: BundleProcess, opts: ApiGatewayV2EventOptions) {
  const res = await p.invoke(apiGatewayV2Event(opts));
  const text = res.isBase64Encoded ? Buffer.from(res.body, 'base64').toString('utf8') : res.body;
  return { status: res.statusCode, json: text === '' ? undefined : (JSON.parse(text) as Record<string, any>) };
}
const post = (p: BundleProcess, route: string, body: unknown) =>
  call(p, { method: 'POST', path: route, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const fetchAll = (p: BundleProcess, topic: string) =>
  call(p, { method: 'GET', path: `/v1/topics/${topic}/partitions/0/records`, query: { offset: 0, encoding: 'string' } });

/** e_machine of an ELF file (183 = AArch64, 62 = x86-64), or undefined if not ELF. */
function elfMachine(file: string): number | undefined {
  const fd = openSync(file, 'r');
  try {
    const h = Buffer.alloc(20);
    readSync(fd, h, 0, 20, 0);
    if (h.readUInt32BE(0) !== 0x7f454c46) return undefined;
    return h.readUInt16LE(18);
  } finally {
    closeSync(fd);
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)));
}

describe('the built Lambda bundle (functions/api)', () => {
  beforeAll(async () => {
    mkdirSync(root, { recursive: true });
    await buildLambdaBundle({ entry: 'functions/api/index.ts', outDir: arm64Dir, arch: 'arm64' });
    mkdirSync(x64Dir);
    cpSync(path.join(arm64Dir, BUNDLE.outFile), path.join(x64Dir, BUNDLE.outFile));
    installNatives(x64Dir, 'x64');
    installConsole(x64Dir);
    if (!hasZlibZstd) {
      cpSync(path.join(REPO, 'node_modules', 'zstd-napi'), path.join(x64Dir, 'node_modules', 'zstd-napi'), { recursive: true });
    }
    mkdirSync(bareDir);
    cpSync(path.join(arm64Dir, BUNDLE.outFile), path.join(bareDir, BUNDLE.outFile));
    [full, bare] = await Promise.all([
      startBundleProcess(x64Dir, env(), [...NATIVE_MODULES, 'zstd-napi']),
      startBundleProcess(bareDir, env(), [...NATIVE_MODULES, 'zstd-napi']),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([full?.close(), bare?.close()]);
    rmSync(root, { recursive: true, force: true });
  });

  it('ships a minified index.mjs of at most 1 MB and no source map, and the built web console', () => {
    const files = filesUnder(arm64Dir);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => !f.startsWith('node_modules/') && !f.startsWith('console/'))).toEqual([BUNDLE.outFile]);
    expect(files.filter((f) => f.startsWith('console/')).map((f) => f.replace(/-[A-Z0-9]+\./, '-<hash>.')).sort()).toEqual([
      'console/app-<hash>.css',
      'console/app-<hash>.js',
      'console/index.html',
    ]);
    expect(statSync(path.join(arm64Dir, BUNDLE.outFile)).size).toBeLessThanOrEqual(1_000_000);
    expect(readFileSync(path.join(arm64Dir, BUNDLE.outFile), 'utf8')).not.toContain('sourceMappingURL');
  });

  it('ships the arm64 glibc binaries of snappy, lz4-napi and @node-rs/crc32 where their loaders look, and nothing for x64', () => {
    const files = filesUnder(arm64Dir);
    for (const rel of nativeBinaryPaths('arm64')) {
      expect(files).toContain(rel);
      expect(elfMachine(path.join(arm64Dir, rel))).toBe(183); // EM_AARCH64
    }
    expect(files.filter((f) => f.endsWith('.node'))).toHaveLength(nativeBinaryPaths('arm64').length);
    expect(files.some((f) => f.startsWith('node_modules/zstd-napi/'))).toBe(false);
    // The loaders (as published) require exactly these packages on linux/arm64/glibc, and
    // insist on the version they were published with.
    const snappyLoader = readFileSync(path.join(arm64Dir, 'node_modules/snappy/index.js'), 'utf8');
    const lz4Loader = readFileSync(path.join(arm64Dir, 'node_modules/lz4-napi/index.js'), 'utf8');
    expect(snappyLoader).toContain("require('@napi-rs/snappy-linux-arm64-gnu')");
    expect(lz4Loader).toContain('require("@antoniomuso/lz4-napi-linux-arm64-gnu")');
    expect(readFileSync(path.join(arm64Dir, 'node_modules/@node-rs/crc32/index.js'), 'utf8')).toContain("require('@node-rs/crc32-linux-arm64-gnu')");
    const version = (rel: string) => (JSON.parse(readFileSync(path.join(arm64Dir, rel), 'utf8')) as { version: string }).version;
    expect(version('node_modules/@napi-rs/snappy-linux-arm64-gnu/package.json')).toBe(version('node_modules/snappy/package.json'));
    expect(version('node_modules/@antoniomuso/lz4-napi-linux-arm64-gnu/package.json')).toBe(version('node_modules/lz4-napi/package.json'));
    expect(version('node_modules/@node-rs/crc32-linux-arm64-gnu/package.json')).toBe(version('node_modules/@node-rs/crc32/package.json'));
    expect(existsSync(path.join(arm64Dir, 'package.json'))).toBe(false);
  });

  it('is what the CDK construct ships: SluiceFunction\'s asset has the same index.mjs and node_modules', async () => {
    const [{ App, Stack }, { SluiceFunction }] = await Promise.all([
      import('aws-cdk-lib'),
      import('../../infra/constructs/sluice-function.ts'),
    ]);
    const app = new App({ outdir: path.join(root, 'cdk.out') });
    new SluiceFunction(new Stack(app, 'BundleTest'), 'Api', { entry: 'functions/api/index.ts' });
    const assembly = app.synth();
    // One function, so one bundled asset directory.
    const assets = readdirSync(assembly.directory).filter((d) => d.startsWith('asset.') && existsSync(path.join(assembly.directory, d, BUNDLE.outFile)));
    expect(assets).toHaveLength(1);
    const assetDir = path.join(assembly.directory, assets[0]!);
    expect(readFileSync(path.join(assetDir, BUNDLE.outFile)).equals(readFileSync(path.join(arm64Dir, BUNDLE.outFile)))).toBe(true);
    expect(filesUnder(assetDir).sort()).toEqual(filesUnder(arm64Dir).sort());
  }, 60_000);

  it('the host-arch copy runs the same index.mjs and resolves the codecs from its own node_modules only', () => {
    expect(readFileSync(path.join(x64Dir, BUNDLE.outFile)).equals(readFileSync(path.join(arm64Dir, BUNDLE.outFile)))).toBe(true);
    for (const rel of nativeBinaryPaths('x64')) expect(elfMachine(path.join(x64Dir, rel))).toBe(62); // EM_X86_64
    for (const name of NATIVE_MODULES) expect(full!.resolved[name]?.startsWith(path.join(x64Dir, 'node_modules', name) + path.sep)).toBe(true);
    // Not found above the bundle directory, although the repository has them installed.
    for (const name of NATIVE_MODULES) expect(bare!.resolved[name]).toBeUndefined();
  });

  it('serves the web console from the asset: index.html no-cache, hashed assets immutable', async () => {
    const index = await full!.invoke(apiGatewayV2Event({ method: 'GET', path: '/console' }));
    expect(index.statusCode).toBe(200);
    expect(index.headers['cache-control']).toBe('no-cache');
    const html = index.isBase64Encoded ? Buffer.from(index.body, 'base64').toString('utf8') : index.body;
    const js = /\/console\/(app-[A-Z0-9]+\.js)/.exec(html)?.[1];
    expect(js).toBeDefined();
    const asset = await full!.invoke(apiGatewayV2Event({ method: 'GET', path: `/console/${js}` }));
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('produces and fetches on none, gzip, snappy, lz4 and zstd topics', async () => {
    const p = full!;
    for (const codec of CODECS) {
      const created = await post(p, '/v1/topics', { name: topics[codec], partitions: 1, config: { 'compression.type': codec } });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      const produced = await post(p, `/v1/topics/${topics[codec]}/records`, {
        encoding: 'string',
        records: values.map((value, i) => ({ key: `k${i}`, value })),
      });
      expect(produced.status, `${codec}: ${JSON.stringify(produced.json)}`).toBe(200);
      expect(produced.json?.offsets).toHaveLength(values.length);
      const fetched = await fetchAll(p, topics[codec]);
      expect(fetched.status, `${codec}: ${JSON.stringify(fetched.json)}`).toBe(200);
      const records = fetched.json?.records as { offset: number; key: string; value: string }[];
      expect(records.map((r) => r.value), codec).toEqual(values);
      expect(records.map((r) => r.offset)).toEqual(values.map((_, i) => i));
    }
  });

  it('refuses live=sse through the buffering API handler (400, pointing at the streaming endpoint)', async () => {
    const res = await call(full!, { method: 'GET', path: `/v1/topics/${topics.none}/partitions/0/records`, query: { live: 'sse' } });
    expect(res.status).toBe(400);
    expect(res.json?.error).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('StreamUrl') });
  });

  it('without the codec packages, fetch and produce answer 500 UNKNOWN_SERVER_ERROR naming the package, not CORRUPT_MESSAGE', async () => {
    const p = bare!;
    for (const [codec, pkg] of [['snappy', 'snappy'], ['lz4', 'lz4-napi']] as const) {
      const fetched = await fetchAll(p, topics[codec]);
      expect(fetched.status).toBe(500);
      expect(fetched.json?.error).toMatchObject({ code: 'UNKNOWN_SERVER_ERROR', retriable: false, codec, package: pkg });
      expect(fetched.json?.error.message).toContain(`"${pkg}" did not load`);

      const produced = await post(p, `/v1/topics/${topics[codec]}/records`, { encoding: 'string', records: [{ value: values[0] }] });
      expect(produced.status).toBe(500);
      expect(produced.json?.error).toMatchObject({ code: 'UNKNOWN_SERVER_ERROR', codec, package: pkg });
    }
    // Built-in codecs still work in that process.
    expect((await fetchAll(p, topics.gzip)).status).toBe(200);
    const zstd = await fetchAll(p, topics.zstd);
    if (hasZlibZstd) expect(zstd.status).toBe(200);
    else expect(zstd.json?.error).toMatchObject({ code: 'UNKNOWN_SERVER_ERROR', codec: 'zstd', package: 'zstd-napi' });
  });
});

/**
 * The BUILT streaming bundle (functions/stream: the app through hono's streamHandle, what the
 * StreamFunction runs behind its RESPONSE_STREAM Function URL), run in a fresh Node process with
 * a minimal `awslambda` global as the Lambda runtime provides it (bundle-process.ts, streaming):
 * a `live=sse` read of a Function URL event streams a `records` event with the produced record
 * and ends by itself after SLUICE_SSE_MAX_MS.
 */
describe('the built streaming bundle (functions/stream)', () => {
  const streamRoot = path.join(REPO, '.cache', `stream-bundle-test-${randomBytes(4).toString('hex')}`);
  const streamDir = path.join(streamRoot, 'x64');
  const topic = `bundle-sse-${randomBytes(4).toString('hex')}`;
  let stream: BundleProcess | undefined;

  beforeAll(async () => {
    mkdirSync(streamRoot, { recursive: true });
    await buildLambdaBundle({ entry: 'functions/stream/index.ts', outDir: streamDir, arch: 'x64' });
    if (!hasZlibZstd) {
      cpSync(path.join(REPO, 'node_modules', 'zstd-napi'), path.join(streamDir, 'node_modules', 'zstd-napi'), { recursive: true });
    }
    stream = await startBundleProcess(streamDir, { ...env(), SLUICE_SSE_MAX_MS: '1500', SLUICE_SSE_PING_MS: '500' }, [], { streaming: true });
  }, 120_000);

  afterAll(async () => {
    await stream?.close();
    rmSync(streamRoot, { recursive: true, force: true });
  });

  const json = (method: string, route: string, body: unknown) =>
    stream!.invokeStream(functionUrlEvent({ method, path: route, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));

  it('streams an SSE read through streamHandle: a records event with the produced record, then the end', async () => {
    const created = await json('POST', '/v1/topics', { name: topic, partitions: 1 });
    expect(created.metadata?.statusCode, created.chunks.join('')).toBe(201);
    const produced = await json('POST', `/v1/topics/${topic}/records`, { encoding: 'string', records: [{ key: 'k', value: 'streamed on Lambda' }] });
    expect(produced.metadata?.statusCode, produced.chunks.join('')).toBe(200);

    const started = Date.now();
    const res = await stream!.invokeStream(
      functionUrlEvent({ method: 'GET', path: `/v1/topics/${topic}/partitions/0/records`, query: { live: 'sse', offset: 0, encoding: 'string' } }),
    );
    expect(res.metadata?.statusCode).toBe(200);
    expect(res.metadata?.headers['content-type']).toMatch(/^text\/event-stream/);
    const text = res.chunks.join('');
    // Written as it went: more than one chunk (the records event, then pings and the end).
    expect(res.chunks.length).toBeGreaterThan(1);
    const events = text
      .split('\n\n')
      .filter((block) => block.trim() !== '')
      .map((block) => Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()])));
    expect(events[0]).toMatchObject({ event: 'records', id: '1' });
    const batch = JSON.parse(events[0]!.data!) as { records: { offset: number; key: string; value: string }[]; nextOffset: number };
    expect(batch.records).toEqual([expect.objectContaining({ offset: 0, key: 'k', value: 'streamed on Lambda' })]);
    expect(batch.nextOffset).toBe(1);
    expect(events.at(-1)).toMatchObject({ event: 'end', id: '1' });
    expect(JSON.parse(events.at(-1)!.data!)).toEqual({ nextOffset: 1, reason: 'max-duration' });
    // It ended by itself after SLUICE_SSE_MAX_MS, not at once and not at the test's timeout.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);

  it('answers unary routes through the same adapter (a fetch is one JSON chunk stream)', async () => {
    const res = await stream!.invokeStream(functionUrlEvent({ method: 'GET', path: `/v1/topics/${topic}/partitions/0/records`, query: { offset: 0, encoding: 'string' } }));
    expect(res.metadata?.statusCode).toBe(200);
    expect((JSON.parse(res.chunks.join('')) as { records: { value: string }[] }).records.map((r) => r.value)).toEqual(['streamed on Lambda']);
  });
});
