#!/usr/bin/env node
// Builds the web console (console/, docs/CONSOLE.md) into hashed static assets:
//
//   dist/console/index.html         no inline script or style (the app serves it with a strict CSP)
//   dist/console/app-<hash>.js      Preact + uPlot + lib/client's browser build, minified
//   dist/console/app-<hash>.css
//
// lib/client is bundled as its browser build (default-credentials.browser.ts), and the SigV4
// signer's packages are replaced by a stub: the console authenticates with a bearer token only.
// Older app-*.js/css files in the output directory are removed.
//
// Usage: node scripts/build-console.mjs [outDir] [--if-stale]   (default: dist/console)
//   --if-stale  build only when outDir/index.html is missing or older than a source file
// Also imported by `sluice dev` (lib/cli/commands/dev.ts) and the console's tests and bench.
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(import.meta.dirname, '..');
export const DEFAULT_OUT = join(ROOT, 'dist/console');
/** What the bundle is made of: a change in any of these makes the built console stale. */
const SOURCE_DIRS = ['console', 'lib/client', 'lib/wire'].map((d) => join(ROOT, d));

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** True when `outDir` holds no build, or one older than a source file. */
export function consoleIsStale(outDir = DEFAULT_OUT) {
  let built;
  try {
    built = statSync(join(outDir, 'index.html')).mtimeMs;
  } catch {
    return true;
  }
  return SOURCE_DIRS.some((d) => newestMtime(d) > built);
}

const browserClient = {
  name: 'browser-client',
  setup(b) {
    b.onResolve({ filter: /\/default-credentials\.ts$/ }, (args) => ({ path: join(args.resolveDir, 'default-credentials.browser.ts') }));
    // SigV4 is out of scope in the browser: keep its packages out of the bundle.
    b.onResolve({ filter: /^(@smithy\/signature-v4|@aws-crypto\/sha256-js)$/ }, (args) => ({ path: args.path, namespace: 'no-sigv4' }));
    b.onLoad({ filter: /.*/, namespace: 'no-sigv4' }, () => ({
      contents: 'export const SignatureV4 = class { constructor() { throw new Error("SigV4 is not supported in the console: use a bearer token"); } }; export const Sha256 = class {};',
      loader: 'js',
    }));
  },
};

/** Builds the console into `outDir`; answers the file names written. */
export async function buildConsole(outDir = DEFAULT_OUT) {
  const { build } = await import('esbuild');
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(ROOT, 'console/main.tsx')],
    outdir: outDir,
    entryNames: 'app-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    metafile: true,
    write: true,
    logLevel: 'warning',
    absWorkingDir: ROOT,
    plugins: [browserClient],
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const js = outputs.find((f) => f.endsWith('.js'));
  const css = outputs.find((f) => f.endsWith('.css'));
  if (js === undefined || css === undefined) throw new Error(`build-console: expected a .js and a .css output, got ${outputs.join(', ')}`);
  for (const f of readdirSync(outDir)) {
    if (/^app-.*\.(js|css)$/.test(f) && !outputs.includes(f)) rmSync(join(outDir, f), { force: true });
  }
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    // No favicon request (a 404 on every load): an empty data: icon, which the CSP allows (img-src data:).
    '<link rel="icon" href="data:,">',
    '<title>Sluice console</title>',
    `<link rel="stylesheet" href="/console/${css}">`,
    `<script type="module" src="/console/${js}"></script>`,
    '</head>',
    '<body>',
    '<div id="app"><noscript>The Sluice console needs JavaScript.</noscript></div>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
  writeFileSync(join(outDir, 'index.html'), html); // last: its mtime marks the build complete
  return { dir: outDir, js, css };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const ifStale = args.includes('--if-stale');
  const out = resolve(args.find((a) => !a.startsWith('--')) ?? DEFAULT_OUT);
  if (!ifStale || consoleIsStale(out)) await buildConsole(out);
}
