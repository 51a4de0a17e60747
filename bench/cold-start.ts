/**
 * `npm run bench -- cold-start [--trials N]`: the size of the API function's Lambda asset and
 * the init time of the BUILT bundle (not the TypeScript).
 *
 * Build: infra/constructs/bundling.ts buildLambdaBundle, the settings SluiceFunction uses
 * (test/integration/lambda-bundle.int.test.ts checks the CDK asset is byte-identical). The
 * asset as shipped is arm64; this machine is x64, so the timed runs use the same index.mjs
 * with the x64 binaries installed beside it (and, on a Node without node:zlib zstd, the
 * repository's zstd-napi as a stand-in).
 *
 * Sizes: index.mjs, each native binary, and the zip of the asset directory (`zip -9 -X -r`, as
 * CDK zips the directory at publish time).
 *
 * Init: N fresh Node processes (no tsx), each: fork → driver's first line (Node start-up) →
 * `await import('index.mjs')` (module evaluation: what Lambda reports as Init Duration beyond
 * the runtime's own start) → the first request through the handler against the emulators
 * (a produce of one record to a snappy topic, which also loads the native module lazily) → a
 * second request (a fetch) for comparison with a warm one. A build with a linked source map and
 * `--enable-source-maps` (the previous settings) runs alongside, interleaved.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { BUNDLE, buildLambdaBundle, installNatives, nativeBinaryPaths } from '../infra/constructs/bundling.ts';
import { startLocalStack } from '../lib/local/local-stack.ts';
import { RESOURCE_ENV } from '../lib/storage/tables.ts';
import { apiGatewayV2Event } from '../test/support/apigw-event.ts';
import { startBundleProcess } from '../test/support/bundle-process.ts';
import { BenchOptions, fmtMs, log, machine, percentile, table } from './support.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

function dirBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .reduce((n, d) => n + statSync(path.join(d.parentPath, d.name)).size, 0);
}

function zipBytes(dir: string, out: string, only?: string): number {
  rmSync(out, { force: true });
  execFileSync('zip', ['-q', '-9', '-X', '-r', out, only ?? '.'], { cwd: dir });
  return statSync(out).size;
}

const kb = (n: number) => `${(n / 1000).toFixed(0)} kB`;
const ms = (x: number) => `${fmtMs(x)} ms`;

export async function run(args: string[]): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const opts = new BenchOptions(args, ['trials']);
  const trials = opts.number('trials', 10);
  const root = path.join(REPO, '.cache', `bench-cold-start-${randomBytes(3).toString('hex')}`);
  const dirs = { arm64: path.join(root, 'arm64'), x64: path.join(root, 'x64'), mapped: path.join(root, 'x64-sourcemap') };
  const hasZlibZstd = typeof (zlib as unknown as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';
  log(`machine: ${machine()}`);
  try {
    const t0 = performance.now();
    await buildLambdaBundle({ entry: 'functions/api/index.ts', outDir: dirs.arm64, arch: 'arm64' });
    const buildMs = performance.now() - t0;
    mkdirSync(dirs.x64);
    cpSync(path.join(dirs.arm64, BUNDLE.outFile), path.join(dirs.x64, BUNDLE.outFile));
    installNatives(dirs.x64, 'x64');
    await buildLambdaBundle({ entry: 'functions/api/index.ts', outDir: dirs.mapped, arch: 'x64', sourcemap: true });
    for (const d of [dirs.x64, dirs.mapped]) {
      if (!hasZlibZstd) cpSync(path.join(REPO, 'node_modules/zstd-napi'), path.join(d, 'node_modules/zstd-napi'), { recursive: true });
    }

    const js = statSync(path.join(dirs.arm64, BUNDLE.outFile)).size;
    const mapBytes = statSync(path.join(dirs.mapped, `${BUNDLE.outFile}.map`)).size;
    const sizeRows: string[][] = [
      ['index.mjs (minified, no source map)', kb(js), kb(zipBytes(dirs.arm64, path.join(root, 'js.zip'), BUNDLE.outFile))],
      ...nativeBinaryPaths('arm64').map((rel) => [rel.replace(/^node_modules\//, ''), kb(statSync(path.join(dirs.arm64, rel)).size), '']),
      ['whole arm64 asset (index.mjs + node_modules)', kb(dirBytes(dirs.arm64)), kb(zipBytes(dirs.arm64, path.join(root, 'asset.zip')))],
      ['for comparison: index.mjs.map (previous settings zipped it too)', kb(mapBytes), ''],
    ];

    const stack = await startLocalStack({ prefix: `sluice-bench-cold-${randomBytes(3).toString('hex')}` });
    try {
      const env = {
        [RESOURCE_ENV.metaTable]: stack.names.tables.meta,
        [RESOURCE_ENV.logTable]: stack.names.tables.log,
        [RESOURCE_ENV.bucket]: stack.names.bucket,
        SLUICE_DYNAMODB_ENDPOINT: stack.dynamoEndpoint,
        SLUICE_S3_ENDPOINT: stack.s3Endpoint,
        SLUICE_BACKEND: 'local',
        SLUICE_AUTH_TOKEN: '',
        AWS_REGION: 'us-east-1',
      };
      const topic = `cold-${randomBytes(3).toString('hex')}`;
      const produce = () =>
        apiGatewayV2Event({
          method: 'POST',
          path: `/v1/topics/${topic}/records`,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ encoding: 'string', records: [{ key: 'k', value: 'cold start '.repeat(50) }] }),
        });
      const fetchOne = () =>
        apiGatewayV2Event({ method: 'GET', path: `/v1/topics/${topic}/partitions/0/records`, query: { offset: 0, maxRecords: 1 } });

      // Warm the emulators (JVM JIT, s3rver) and create the topic; not measured.
      const warm = await startBundleProcess(dirs.x64, env);
      const created = await warm.invoke(
        apiGatewayV2Event({
          method: 'POST',
          path: '/v1/topics',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: topic, partitions: 1, config: { 'compression.type': 'snappy' } }),
        }),
      );
      if (created.statusCode !== 201) throw new Error(`create topic: ${created.statusCode} ${created.body}`);
      for (let i = 0; i < 20; i++) await warm.invoke(produce());
      await warm.close();

      type Sample = { node: number; init: number; first: number; second: number; total: number };
      const samples: Record<'current' | 'mapped', Sample[]> = { current: [], mapped: [] };
      for (let t = 0; t < trials; t++) {
        for (const variant of ['current', 'mapped'] as const) {
          const dir = variant === 'current' ? dirs.x64 : dirs.mapped;
          const forked = performance.now();
          const p = await startBundleProcess(dir, variant === 'mapped' ? { ...env, NODE_OPTIONS: '--enable-source-maps' } : env);
          const a = performance.now();
          const r1 = await p.invoke(produce());
          const b = performance.now();
          const r2 = await p.invoke(fetchOne());
          const c = performance.now();
          await p.close();
          if (r1.statusCode !== 200 || r2.statusCode !== 200) throw new Error(`requests failed: ${r1.statusCode} ${r1.body} / ${r2.statusCode}`);
          samples[variant].push({ node: p.nodeStartMs, init: p.importMs, first: b - a, second: c - b, total: b - forked });
        }
      }
      const med = (xs: number[]) => percentile([...xs].sort((x, y) => x - y), 50);
      const p90 = (xs: number[]) => percentile([...xs].sort((x, y) => x - y), 90);
      const row = (label: string, s: Sample[]) => [
        label,
        `${ms(med(s.map((x) => x.node)))}`,
        `**${ms(med(s.map((x) => x.init)))}** (p90 ${ms(p90(s.map((x) => x.init)))})`,
        `${ms(med(s.map((x) => x.first)))} (p90 ${ms(p90(s.map((x) => x.first)))})`,
        ms(med(s.map((x) => x.second))),
        ms(med(s.map((x) => x.total))),
      ];
      console.log(`\nmachine: ${machine()}; esbuild build ${ms(buildMs)}; ${trials} fresh processes per row, interleaved\n`);
      console.log(table(['file', 'bytes:', 'zipped:'], sizeRows));
      console.log('');
      console.log(
        table(
          ['bundle', 'Node start-up:', 'init = import index.mjs:', 'first request (produce, snappy):', 'second request (fetch):', 'fork → first answer:'],
          [row('shipped: minified, no source map', samples.current), row('same bundle + linked source map + --enable-source-maps (previous settings)', samples.mapped)],
        ),
      );
    } finally {
      await stack.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
