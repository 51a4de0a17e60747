/**
 * `sluice/cdk` as another CDK app uses it: built by scripts/build-cdk.mjs (what `npm pack`
 * runs), resolved through the package's exports map from a project that depends on it, then
 * type-checked by tsc with ordinary settings (NodeNext, strict) and synthesized by tsx.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
let project: string;

beforeAll(async () => {
  await run(process.execPath, [join(ROOT, 'scripts/build-cdk.mjs')], { cwd: ROOT });
  await mkdir(join(ROOT, '.cache'), { recursive: true });
  project = await mkdtemp(join(ROOT, '.cache', 'cdk-consumer-'));
  await mkdir(join(project, 'node_modules'));
  await symlink(ROOT, join(project, 'node_modules', 'sluice'), 'dir');
  // The app's own copies of the CDK libraries (here: this repository's).
  for (const dep of ['aws-cdk-lib', 'constructs', 'cdk-nag']) {
    await symlink(join(ROOT, 'node_modules', dep), join(project, 'node_modules', dep), 'dir');
  }
  await writeFile(join(project, 'package.json'), JSON.stringify({ type: 'module' }));
  await writeFile(
    join(project, 'app.ts'),
    `import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SluiceLog, type SluiceLogProps } from 'sluice/cdk';

// No feature flags from a cdk.json: the construct must not depend on ours.
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new Stack(app, 'Consumer');
const props: SluiceLogProps = { auth: 'iam', memorySize: 512 };
const log = new SluiceLog(stack, 'Log', props);
log.grantProduce('orders', new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() }));
const template = app.synth().getStackByName('Consumer').template as { Resources: Record<string, { Type: string }> };
const types = Object.values(template.Resources).map((r) => r.Type);
console.log(JSON.stringify({ url: typeof log.url, functions: types.filter((t) => t === 'AWS::Lambda::Function').length }));
`,
  );
}, 120_000);
afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

it('type-checks in a consumer project with ordinary settings', async () => {
  await writeFile(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
      files: ['app.ts'],
    }),
  );
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = await run(process.execPath, [tsc, '-p', project], { cwd: project }).catch((e: { stdout: string }) => e);
  expect((result as { stdout: string }).stdout).toBe('');
}, 120_000);

it('synthesizes a stack with SluiceLog when run by tsx', async () => {
  const tsx = join(ROOT, 'node_modules/.bin/tsx');
  const { stdout } = await run(tsx, [join(project, 'app.ts')], { cwd: project });
  expect(JSON.parse(stdout)).toEqual({ url: 'string', functions: 4 }); // the API, fetch, stream and maintenance functions
}, 120_000);
