/**
 * How a Sluice Lambda bundle is built: ONE description, used by the CDK construct
 * (SluiceFunction's `bundling`) and by the tests and benches that build the same bundle with
 * esbuild directly (test/integration/lambda-bundle.int.test.ts, bench/cold-start.ts), so what
 * is tested and what is deployed cannot drift.
 *
 * The asset (what Lambda unzips into /var/task):
 *
 *   index.mjs                      the minified ESM bundle, no source map (not shipped at all)
 *   node_modules/snappy/           the packages' JS loaders, as published
 *   node_modules/lz4-napi/
 *   node_modules/@node-rs/crc32/
 *   node_modules/@napi-rs/snappy-linux-arm64-gnu/snappy.linux-arm64-gnu.node
 *   node_modules/@antoniomuso/lz4-napi-linux-arm64-gnu/lz4-napi.linux-arm64-gnu.node
 *   node_modules/@node-rs/crc32-linux-arm64-gnu/crc32.linux-arm64-gnu.node
 *   console/index.html, console/app-<hash>.js|css   the web console (lib/api/console.ts serves
 *                                  it from <bundle dir>/console; consoleAssetCommands)
 *
 * Why a node_modules beside the bundle: the codecs are native (napi-rs) modules that esbuild
 * cannot inline, and lib/codec/compression.ts loads them lazily with `createRequire(import.
 * meta.url)` + `require(name)`, which resolves from the bundle's directory (lib/codec/crc32c.ts
 * loads @node-rs/crc32 the same way at start-up, and falls back to a 5x slower JS CRC-32C
 * without it). Each package's
 * index.js picks its binary package by `process.platform`/`process.arch`/libc (Lambda:
 * linux, arm64, glibc) and requires `@napi-rs/snappy-linux-arm64-gnu` /
 * `@antoniomuso/lz4-napi-linux-arm64-gnu` / `@node-rs/crc32-linux-arm64-gnu`. The build machine may be x64, so the binaries
 * are installed with `npm install --os=linux --cpu=<arch> --libc=glibc` (npm >= 10), which
 * selects the optional dependencies of the TARGET platform instead of the host's.
 *
 * zstd is not shipped: Lambda's Node 22 (>= 22.15) and 24 runtimes have `node:zlib` zstd,
 * which compression.ts prefers; zstd-napi is only the fallback for older local Nodes.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * An ESM bundle may still contain CommonJS dependencies that `require()` Node built-ins;
 * esbuild keeps those calls behind a `__require` shim that throws "Dynamic require of ... is
 * not supported" unless a `require` exists in module scope. ESM has none, so create one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __sluiceCreateRequire } from 'node:module';" +
  'const require = __sluiceCreateRequire(import.meta.url);';

/** Native packages shipped in the asset's node_modules (lib/codec/compression.ts and crc32c.ts load them). */
export const NATIVE_MODULES = ['snappy', 'lz4-napi', '@node-rs/crc32'] as const;

/**
 * Never bundled: the shipped natives, and zstd-napi, which is not shipped (node:zlib has
 * zstd on Lambda) and which compression.ts only requires where node:zlib lacks it.
 */
export const BUNDLE_EXTERNALS: readonly string[] = [...NATIVE_MODULES, 'zstd-napi'];

export type LambdaArch = 'arm64' | 'x64';

/** The esbuild settings both builders use (CDK turns its props into exactly these flags). */
export const BUNDLE = {
  format: 'esm',
  platform: 'node',
  target: 'node22',
  /** Prefer the ESM build of dependencies that ship both. */
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  /**
   * No source map in the zip: a map is as big as the bundle (it would double the bytes Lambda
   * downloads and unzips at cold start), and `--enable-source-maps` makes every stack trace
   * parse it. Stack traces point into the minified bundle (with the names kept, below).
   */
  sourcemap: false,
  /**
   * Keep function and class names through minification: our errors set `name` from
   * `new.target.name`, and log lines and stack traces should say `CorruptStoredDataError`.
   */
  keepNames: true,
  /** CDK's default for ESM output. */
  outFile: 'index.mjs',
} as const;

/** Exact versions of the native packages, from package.json (the lock file pins the same). */
export function nativeModuleVersions(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    optionalDependencies?: Record<string, string>;
    dependencies?: Record<string, string>;
  };
  const out: Record<string, string> = {};
  for (const name of NATIVE_MODULES) {
    const version = pkg.optionalDependencies?.[name] ?? pkg.dependencies?.[name];
    if (version === undefined || !/^\d+\.\d+\.\d+$/.test(version)) {
      throw new Error(`bundling: ${name} must be pinned to an exact version in package.json (found ${String(version)})`);
    }
    out[name] = version;
  }
  return out;
}

/**
 * Shell commands that install the native packages for linux/`arch`/glibc into
 * `<outputDir>/node_modules` (and leave no package.json or lock file behind). Run by CDK's
 * afterBundling hook and, verbatim, by the tests.
 */
export function nativeInstallCommands(outputDir: string, arch: LambdaArch): string[] {
  const manifest = JSON.stringify({ private: true, dependencies: nativeModuleVersions() });
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    `cd ${q(outputDir)} && printf '%s' ${q(manifest)} > package.json`,
    `cd ${q(outputDir)} && npm install --os=linux --cpu=${arch} --libc=glibc --omit=dev --omit=peer ` +
      `--ignore-scripts --no-package-lock --no-audit --no-fund --no-save --prefer-offline --loglevel=error`,
    `cd ${q(outputDir)} && rm -f package.json node_modules/.package-lock.json`,
  ];
}

/**
 * Shell commands that put the built web console (dist/console, docs/CONSOLE.md) into
 * `<outputDir>/console`, where lib/api/console.ts finds it beside the bundle. In a checkout the
 * console is built first if missing or stale (scripts/build-console.mjs --if-stale); an
 * installed package ships dist/console built (prepack).
 */
export function consoleAssetCommands(outputDir: string): string[] {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const root = q(REPO_ROOT);
  return [
    `cd ${root} && if [ -f scripts/build-console.mjs ] && [ -d console ]; then node scripts/build-console.mjs --if-stale; fi`,
    `rm -rf ${q(path.join(outputDir, 'console'))} && cp -R ${q(path.join(REPO_ROOT, 'dist/console'))} ${q(path.join(outputDir, 'console'))}`,
  ];
}

/** The `bundling` property of a SluiceFunction for `arch` (CDK NodejsFunction BundlingOptions). */
export function lambdaBundlingOptions(arch: LambdaArch): BundlingOptions {
  return {
    format: BUNDLE.format as OutputFormat,
    mainFields: [...BUNDLE.mainFields],
    banner: BUNDLE.banner,
    minify: BUNDLE.minify,
    keepNames: BUNDLE.keepNames,
    sourceMap: BUNDLE.sourcemap,
    target: BUNDLE.target,
    externalModules: [...BUNDLE_EXTERNALS],
    // Ship the SDK version we pin and test against instead of whatever the runtime carries
    // (our S3 client settings need a recent one); it is most of the bundle's bytes.
    bundleAwsSDK: true,
    commandHooks: {
      beforeBundling: (): string[] => [],
      beforeInstall: (): string[] => [],
      afterBundling: (_inputDir: string, outputDir: string): string[] => [...nativeInstallCommands(outputDir, arch), ...consoleAssetCommands(outputDir)],
    },
  };
}

/** Where the binary of `pkg` lands for linux/arch/glibc, as its index.js loader requires it. */
export function nativeBinaryPaths(arch: LambdaArch): string[] {
  return [
    `node_modules/@napi-rs/snappy-linux-${arch}-gnu/snappy.linux-${arch}-gnu.node`,
    `node_modules/@antoniomuso/lz4-napi-linux-${arch}-gnu/lz4-napi.linux-${arch}-gnu.node`,
    `node_modules/@node-rs/crc32-linux-${arch}-gnu/crc32.linux-${arch}-gnu.node`,
  ];
}

export interface BuiltBundle {
  readonly dir: string;
  readonly file: string;
}

/**
 * Builds the bundle of `entry` (relative to the repository root) into `outDir` exactly as the
 * construct does: esbuild with BUNDLE's settings, then nativeInstallCommands for `arch`
 * and consoleAssetCommands. `natives: false` skips both (to build the JS once and install per arch).
 * `sourcemap` is for bench/cold-start.ts's comparison only; the construct never sets it.
 */
export async function buildLambdaBundle(opts: {
  entry: string;
  outDir: string;
  arch: LambdaArch;
  natives?: boolean;
  sourcemap?: boolean;
}): Promise<BuiltBundle> {
  const esbuild = await import('esbuild');
  const file = path.join(opts.outDir, BUNDLE.outFile);
  await esbuild.build({
    entryPoints: [path.join(REPO_ROOT, opts.entry)],
    bundle: true,
    outfile: file,
    format: BUNDLE.format,
    platform: BUNDLE.platform,
    target: BUNDLE.target,
    mainFields: [...BUNDLE.mainFields],
    banner: { js: BUNDLE.banner },
    minify: BUNDLE.minify,
    keepNames: BUNDLE.keepNames,
    sourcemap: opts.sourcemap ?? BUNDLE.sourcemap,
    external: [...BUNDLE_EXTERNALS],
    absWorkingDir: REPO_ROOT,
    logLevel: 'error',
  });
  if (opts.natives !== false) {
    installNatives(opts.outDir, opts.arch);
    installConsole(opts.outDir);
  }
  return { dir: opts.outDir, file };
}

/** Runs nativeInstallCommands (the same commands as CDK's hook) with cwd = the repository root. */
export function installNatives(outDir: string, arch: LambdaArch): void {
  for (const command of nativeInstallCommands(outDir, arch)) {
    execFileSync('bash', ['-c', command], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

/** Runs consoleAssetCommands (the same commands as CDK's hook): the web console beside the bundle. */
export function installConsole(outDir: string): void {
  for (const command of consoleAssetCommands(outDir)) {
    execFileSync('bash', ['-c', command], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
