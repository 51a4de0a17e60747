/**
 * `sluice/client` as another project uses it: built by scripts/build-client.mjs (what `npm pack`
 * runs), resolved through the package's exports map from a project that depends on it, and:
 *  - run by plain Node (no tsx, no TypeScript) against a served app: produce, then read back;
 *  - type-checked by tsc with a consumer's ordinary settings (NodeNext, strict);
 *  - bundled for a browser by esbuild, which takes the `browser` export: no Node built-in in it.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serveApp, type ServedApp } from '../support/http-server.ts';
import { uniqueName } from '../support/http.ts';
import { stackApp } from '../support/stack.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
let project: string;
let served: ServedApp;

beforeAll(async () => {
  served = await serveApp(stackApp());
  await run(process.execPath, [join(ROOT, 'scripts/build-client.mjs')], { cwd: ROOT });
  await mkdir(join(ROOT, '.cache'), { recursive: true });
  project = await mkdtemp(join(ROOT, '.cache', 'client-consumer-'));
  await mkdir(join(project, 'node_modules'));
  await symlink(ROOT, join(project, 'node_modules', 'sluice'), 'dir');
}, 120_000);
afterAll(async () => {
  await served.close();
  await rm(project, { recursive: true, force: true });
});

it('runs in plain Node from the built package: produce, then read back', async () => {
  const topic = uniqueName('pkg');
  await writeFile(
    join(project, 'main.mjs'),
    `import { Sluice, UnknownTopicOrPartitionError } from 'sluice/client';
const sluice = new Sluice({ url: process.argv[2] });
await sluice.admin.createTopic({ name: process.argv[3], partitions: 2 });
const producer = sluice.producer();
const sent = await Promise.all([1, 2, 3].map((n) => producer.send(process.argv[3], { key: 'k' + n, value: { n } })));
await producer.close();
const missing = await sluice.admin.describeTopic('no-such-topic-' + Date.now()).catch((e) => e);
const described = await sluice.admin.describeTopic(process.argv[3]);
console.log(JSON.stringify({ sent: sent.flat(), total: described.partitions.reduce((n, p) => n + p.highWatermark, 0), typed: missing instanceof UnknownTopicOrPartitionError }));
`,
  );
  const { stdout } = await run(process.execPath, [join(project, 'main.mjs'), served.base, topic], { cwd: project });
  const out = JSON.parse(stdout) as { sent: { topic: string; partition: number; offset: number }[]; total: number; typed: boolean };
  expect(out.total).toBe(3);
  expect(out.sent.map((s) => s.topic)).toEqual([topic, topic, topic]);
  expect(out.typed).toBe(true);
});

it("type-checks in a consumer project with ordinary settings", async () => {
  await writeFile(
    join(project, 'check.ts'),
    `import { Sluice, type ConsumedRecord, type RecordMetadata, RequestTimeoutError } from 'sluice/client';
const sluice = new Sluice({ url: 'http://localhost:8080', sigv4: { region: 'eu-west-1' } });
const sent: Promise<RecordMetadata[]> = sluice.producer({ lingerMs: 10 }).send('t', { key: 'k', value: { a: 1 } });
export const use = (r: ConsumedRecord) => r.offset;
export const e = new RequestTimeoutError('x');
void sent;
// @ts-expect-error lingerMs is a number
sluice.producer({ lingerMs: 'soon' });
`,
  );
  await writeFile(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [] }, files: ['check.ts'] }),
  );
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = await run(process.execPath, [tsc, '-p', project], { cwd: project }).catch((e: { stdout: string }) => e);
  expect((result as { stdout: string }).stdout).toBe('');
}, 120_000);

it('bundles for a browser without any Node built-in', async () => {
  await writeFile(join(project, 'browser.mjs'), `import { Sluice } from 'sluice/client';\nexport const s = new Sluice({ url: location.origin, token: 't' });\n`);
  const result = await build({ entryPoints: [join(project, 'browser.mjs')], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent', absWorkingDir: project });
  const code = result.outputFiles[0]!.text;
  expect(code).toContain('execute-api'); // the client is in it
  expect(code).not.toMatch(/from\s*["']node:|require\(["']node:/);
  expect(code).not.toContain('credential-provider-node');
});
