#!/usr/bin/env node
// Builds `sluice/cdk` for another CDK app (TypeScript run by tsx or ts-node, or plain JS):
// one ESM file, dist/cdk/index.js, with the constructs and the lib/ modules they read, and
// the type declarations under dist/cdk/types. aws-cdk-lib, constructs, cdk-nag (for the
// suppressions the constructs carry) and the package's own dependencies stay imports: the
// app's copies, so there is one construct library in the tree. The file sits two levels below the package root, like
// infra/constructs/*.ts, so the functions' entries resolve to the package's sources, which
// NodejsFunction bundles at synth.
// Usage: node scripts/build-cdk.mjs [outDir]   (default: dist)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const out = resolve(process.argv[2] ?? join(root, 'dist'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

await build({
  entryPoints: [join(root, 'infra/cdk.ts')],
  outfile: join(out, 'cdk/index.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: [...Object.keys(pkg.dependencies ?? {}), 'aws-cdk-lib', 'constructs', 'cdk-nag'],
  logLevel: 'warning',
});

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.cdk.json'), '--outDir', join(out, 'cdk/types')], { stdio: 'inherit' });
