#!/usr/bin/env node
// Builds `sluice/client` for people who import it without TypeScript tooling: one ESM file for
// Node 20+ and Lambda (dist/client/index.js), one for browsers (dist/client/browser.js, where
// the AWS SDK's default credential chain, which needs Node, is swapped for a stand-in), and the
// type declarations (dist/types). The package's dependencies stay imports, not bundled copies.
// Usage: node scripts/build-client.mjs [outDir]   (default: dist)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const out = resolve(process.argv[2] ?? join(root, 'dist'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const common = {
  entryPoints: [join(root, 'lib/client/index.ts')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  external: Object.keys(pkg.dependencies ?? {}),
  logLevel: 'warning',
};

await build({ ...common, outfile: join(out, 'client/index.js'), platform: 'neutral' });

const browserCredentials = {
  name: 'browser-credentials',
  setup(b) {
    b.onResolve({ filter: /\/default-credentials\.ts$/ }, (args) => ({ path: join(args.resolveDir, 'default-credentials.browser.ts') }));
  },
};
await build({ ...common, outfile: join(out, 'client/browser.js'), platform: 'browser', plugins: [browserCredentials] });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.client.json'), '--outDir', join(out, 'types')], { stdio: 'inherit' });
