/**
 * Runs a BUILT Lambda bundle (infra/constructs/bundling.ts buildLambdaBundle) in a fresh Node
 * process, without tsx or vitest: a small CommonJS driver imports `<dir>/index.mjs` and
 * answers each API Gateway event sent over IPC with what the handler returned.
 *
 * Module resolution is confined to the bundle's directory, as on Lambda (/var/task has no
 * node_modules above it): the bundles are built under the repository's .cache/, and Node would
 * otherwise walk up into the repository's own node_modules and find snappy there, which would
 * make "the bundle ships snappy" untestable. NODE_PATH is cleared for the same reason.
 *
 * Used by test/integration/lambda-bundle.int.test.ts and bench/cold-start.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export interface BundleResult {
  statusCode: number;
  body: string;
  isBase64Encoded: boolean;
  headers: Record<string, string>;
}

/** What a streaming handler (awslambda.streamifyResponse) wrote: the HTTP prelude and the body, chunk by chunk. */
export interface StreamedResult {
  metadata: { statusCode: number; headers: Record<string, string>; cookies?: string[] } | undefined;
  chunks: string[];
}

export interface BundleProcess {
  /** ms from fork() until the driver's first line ran (Node's own start-up). */
  readonly nodeStartMs: number;
  /** ms the driver spent in `await import(index.mjs)` (module evaluation = Lambda init). */
  readonly importMs: number;
  /** Where the bundle's own `require` resolves each package (undefined: not resolvable). */
  readonly resolved: Record<string, string | undefined>;
  invoke(event: unknown): Promise<BundleResult>;
  /** Only with `streaming: true`: invokes the handler with a response stream, resolves when it ended. */
  invokeStream(event: unknown): Promise<StreamedResult>;
  close(): Promise<void>;
}

const DRIVER = String.raw`
'use strict';
const startedAt = Date.now();
const Module = require('node:module');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const dir = path.resolve(process.argv[2]);
// Like /var/task: no node_modules above the bundle directory, no global folders.
const nodeModulePaths = Module._nodeModulePaths;
Module._nodeModulePaths = (from) => nodeModulePaths.call(Module, from).filter((p) => p.startsWith(dir + path.sep));
Module.globalPaths.length = 0;
const context = {
  callbackWaitsForEmptyEventLoop: true, functionName: 'Sluice-ApiFunction', functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:Sluice-ApiFunction',
  memoryLimitInMB: '1024', awsRequestId: 'bundle-test', logGroupName: '/aws/lambda/Sluice-ApiFunction',
  logStreamName: 'bundle-test', getRemainingTimeInMillis: () => 30000,
  done() {}, fail() {}, succeed() {},
};
// streaming: what the Lambda Node.js runtime puts in the global scope for response streaming,
// reduced to what a handler uses: streamifyResponse(fn) marks fn as a streaming handler, which
// the runtime then calls as fn(event, responseStream, context); HttpResponseStream.from(stream,
// metadata) sends the HTTP prelude (status, headers) of a Function URL answer before the body.
const streaming = process.argv[4] === 'stream';
if (streaming) {
  const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
  globalThis.awslambda = {
    streamifyResponse(fn) { fn[STREAMING] = 'response'; return fn; },
    HttpResponseStream: { from(stream, metadata) { stream.sluiceMetadata = metadata; return stream; } },
  };
}
async function invokeStreaming(handler, event) {
  const { Writable } = require('node:stream');
  if (handler[Symbol.for('aws.lambda.runtime.handler.streaming')] !== 'response') throw new Error('handler is not streamifyResponse()d');
  const chunks = [];
  const stream = new Writable({
    write(chunk, _encoding, cb) { chunks.push(Buffer.from(chunk).toString('utf8')); cb(); },
  });
  const ended = new Promise((resolve, reject) => { stream.on('finish', resolve); stream.on('error', reject); });
  await handler(event, stream, context);
  await ended;
  return { metadata: stream.sluiceMetadata, chunks };
}
(async () => {
  const t0 = performance.now();
  const mod = await import(pathToFileURL(path.join(dir, 'index.mjs')).href);
  const importMs = performance.now() - t0;
  const req = Module.createRequire(path.join(dir, 'index.mjs'));
  const resolved = {};
  for (const name of JSON.parse(process.argv[3])) {
    try { resolved[name] = req.resolve(name); } catch { resolved[name] = undefined; }
  }
  process.on('message', async (msg) => {
    try {
      const result = msg.stream ? await invokeStreaming(mod.handler, msg.event) : await mod.handler(msg.event, context);
      process.send({ id: msg.id, result });
    } catch (err) {
      process.send({ id: msg.id, error: String((err && err.stack) || err) });
    }
  });
  process.send({ ready: true, startedAt, importMs, resolved });
})().catch((err) => { process.send({ ready: false, error: String((err && err.stack) || err) }); });
`;

/** Starts the bundle in `dir` in a new Node process with exactly `env` (plus PATH). */
export async function startBundleProcess(
  dir: string,
  env: Record<string, string>,
  resolveNames: readonly string[] = [],
  opts: { readonly streaming?: boolean } = {},
): Promise<BundleProcess> {
  const driver = path.join(dir, '..', 'bundle-driver.cjs');
  writeFileSync(driver, DRIVER);
  const forkedAt = Date.now();
  const child: ChildProcess = fork(driver, [dir, JSON.stringify(resolveNames), opts.streaming === true ? 'stream' : 'buffer'], {
    execArgv: [],
    env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const pending = new Map<number, { resolve(r: any): void; reject(e: Error): void }>();
  let nextId = 0;
  const ready = await new Promise<{ startedAt: number; importMs: number; resolved: Record<string, string | undefined> }>(
    (resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`bundle process exited (${String(code)}) before it was ready: ${stderr}`)));
      child.once('message', (m: any) => {
        if (m?.ready) resolve(m);
        else reject(new Error(`bundle failed to load: ${m?.error ?? 'unknown'}\n${stderr}`));
      });
    },
  );
  child.removeAllListeners('exit');
  child.on('message', (m: any) => {
    const p = pending.get(m?.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (m.error !== undefined) p.reject(new Error(`handler threw: ${m.error}`));
    else p.resolve(m.result);
  });
  child.on('exit', () => {
    for (const p of pending.values()) p.reject(new Error(`bundle process exited: ${stderr}`));
    pending.clear();
  });
  return {
    nodeStartMs: ready.startedAt - forkedAt,
    importMs: ready.importMs,
    resolved: ready.resolved,
    invoke(event) {
      const id = nextId++;
      return new Promise<BundleResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, event });
      });
    },
    invokeStream(event) {
      if (opts.streaming !== true) return Promise.reject(new Error('invokeStream needs startBundleProcess(..., { streaming: true })'));
      const id = nextId++;
      return new Promise<StreamedResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, event, stream: true });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      });
    },
  };
}
