/**
 * Durability of the local stack
 * (`npm run bench -- local-durability [--rounds=3] [--seconds=2] [--cycles=4]`).
 *
 * Runs the real `sluice dev` (node lib/cli/main.ts dev, DynamoDB Local persisted under a temp
 * data dir) as a child process, loads it with concurrent produce requests, stops it in one of
 * three ways while the load runs, restarts it on the same data dir and checks that every
 * acknowledged record is readable at its acknowledged offset with its value:
 *   a. SIGTERM to the dev server (clean stop: HTTP server closed, then the JVM gets SIGTERM);
 *   b. SIGKILL to the dev server's node process only: no handler runs, the watchdog of
 *      lib/local/child-reaper.ts then stops the JVM (SIGTERM, SIGKILL after the grace period);
 *   c. SIGKILL to the dev server's whole process group: node and the JVM die at once.
 * The load: half the workers send 1 record to one partition (a single conditional PutItem
 * publishes it), half send 4 records to 4 partitions (one TransactWriteItems publishes them).
 *
 * Each round uses a fresh data dir and chains start → load → (a) → restart, check → load → (b)
 * → restart, check → load → (c) → restart, check → clean stop. Every check covers all records
 * acknowledged so far in the round; a loss is counted in the case in which the record was
 * acknowledged. `SLUICE_SLOT_TIMEOUT_MS=1000`, so that slots a killed server reserved but never
 * published are filled with holes a second after the restart, not ten.
 *
 * Then the emulator alone, without Sluice: concurrent 4-item TransactWriteItems straight to a
 * persisted DynamoDB Local, SIGKILL to the JVM, restart, look for every acknowledged item;
 * once taking the emulator's answer as the acknowledgement, once only after the commit wait
 * that the local stack adds (lib/local/local-stack.ts: a ListTables queued behind the COMMIT).
 *
 * Last, what that wait costs: 4-partition produce requests through the app in process
 * (`app.request`) on a persisted local stack, with the stack's clients (wait on) and with plain
 * clients to the same emulators (wait off), interleaved rounds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  BatchGetItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { createApp } from '../lib/api/app.ts';
import { freePort, startDynamoDbLocal, type DynamoDbLocal } from '../lib/local/dynamodb-local.ts';
import { startLocalStack } from '../lib/local/local-stack.ts';
import { randomIds, systemClock } from '../lib/deps.ts';
import { createAwsClients } from '../lib/storage/clients.ts';
import { call, fmtMs, fmtNum, inProcess, log, machine, numberArg, postJson, summarize, table, timedLoop } from './support.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const MAIN = join(REPO, 'lib', 'cli', 'main.ts');
const TOPIC = 'durability';
const PARTITIONS = 8;
const MULTI = 4;
const SINGLE_WORKERS = 6;
const MULTI_WORKERS = 6;
/** Acknowledgements this close to the kill are the ones at risk (the report's window was 2 ms). */
const AT_RISK_MS = 10;
const HEALTHY_WITHIN_MS = 40_000;
const SLOT_TIMEOUT_MS = 1000;

type Mode = 'sigterm' | 'node-sigkill' | 'group-sigkill';
const MODES: readonly Mode[] = ['sigterm', 'node-sigkill', 'group-sigkill'];
const MODE_LABEL: Record<Mode, string> = {
  sigterm: 'a. SIGTERM to the dev server (clean stop)',
  'node-sigkill': 'b. SIGKILL to node only (watchdog stops the JVM)',
  'group-sigkill': 'c. SIGKILL to node and the JVM together',
};

interface Dev {
  readonly child: ChildProcess;
  readonly base: string;
  readonly javaPid: number;
  readonly exited: Promise<void>;
  readonly output: () => string;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  // Ctrl-C or a failure in the bench: do not leave a dev server (or its JVM) behind.
  for (const child of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
});
process.once('SIGINT', () => process.exit(130));

async function startDev(dataDir: string): Promise<Dev> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    SLUICE_SLOT_TIMEOUT_MS: String(SLOT_TIMEOUT_MS),
    SLUICE_DEBUG: '1', // a failed start prints its stack
  };
  // Under `npm run bench` the dev server would otherwise watch our npm (parent-watch.ts).
  delete env.npm_lifecycle_event;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'dev', '--port', String(port), '--data-dir', dataDir], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group (the JVM joins it), so case (c) can SIGKILL both at once.
    detached: true,
  });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => (running.delete(child), resolve())));
  const base = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sluice dev exited early:\n${output}`);
    if (Date.now() - t0 > HEALTHY_WITHIN_MS) throw new Error(`sluice dev not healthy within ${HEALTHY_WITHIN_MS} ms:\n${output}`);
    const res = await fetch(`${base}/healthz`).catch(() => undefined);
    const pid = /\(pid (\d+)\)/.exec(output)?.[1];
    if (res?.status === 200 && pid !== undefined) return { child, base, javaPid: Number(pid), exited, output: () => output };
    await res?.text().catch(() => undefined);
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function isDynamoDbLocal(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('DynamoDBLocal.jar');
  } catch {
    return false;
  }
}

interface Ack {
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
  readonly multi: boolean;
  /** performance.now() when the answer arrived. */
  readonly at: number;
  readonly mode: Mode;
}

interface LoadResult {
  readonly acks: Ack[];
  readonly singleRequests: number;
  readonly multiRequests: number;
  readonly failed: number;
  /** performance.now() when the signal was sent. */
  readonly killedAt: number;
}

/** Loads `dev` for `ms`, then (load still running) stops it by `mode` and waits for it to be gone. */
async function loadAndStop(dev: Dev, mode: Mode, ms: number, tag: string): Promise<LoadResult & { jvmGoneMs: number }> {
  const acks: Ack[] = [];
  let singleRequests = 0;
  let multiRequests = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  let stop = false;
  const worker = async (w: number, multi: boolean): Promise<void> => {
    for (let i = 0; !stop; i++) {
      const first = (w * 3 + i) % PARTITIONS;
      const partitions = multi ? Array.from({ length: MULTI }, (_, k) => (first + k) % PARTITIONS) : [first];
      const values = partitions.map((p) => `${tag}-${multi ? 'm' : 's'}${w}-${i}-p${p}`);
      const body = JSON.stringify({ encoding: 'string', records: partitions.map((p, k) => ({ partition: p, value: values[k] })) });
      try {
        const res = await fetch(`${dev.base}/v1/topics/${TOPIC}/records`, postJson(body));
        const text = await res.text();
        if (!res.ok) {
          failed++;
          firstFailure ??= `${res.status} ${text.slice(0, 200)}`;
          continue;
        }
        const at = performance.now();
        const { offsets } = JSON.parse(text) as { offsets: { partition: number; offset: number }[] };
        offsets.forEach((o, k) => acks.push({ partition: o.partition, offset: o.offset, value: values[k]!, multi, at, mode }));
        if (multi) multiRequests++;
        else singleRequests++;
      } catch (err) {
        failed++; // the server went away mid-request: not acknowledged
        if (stop) return;
        firstFailure ??= String(err);
        await sleep(5);
      }
    }
  };
  const workers = [
    ...Array.from({ length: SINGLE_WORKERS }, (_, w) => worker(w, false)),
    ...Array.from({ length: MULTI_WORKERS }, (_, w) => worker(w, true)),
  ];
  await sleep(ms);
  const killedAt = performance.now();
  const pid = dev.child.pid!;
  if (mode === 'sigterm') process.kill(pid, 'SIGTERM');
  else if (mode === 'node-sigkill') process.kill(pid, 'SIGKILL');
  else process.kill(-pid, 'SIGKILL');
  stop = true;
  await Promise.all(workers);
  await dev.exited;
  while (isDynamoDbLocal(dev.javaPid)) {
    if (performance.now() - killedAt > 30_000) throw new Error(`JVM ${dev.javaPid} still alive 30 s after ${mode}`);
    await sleep(5);
  }
  const jvmGoneMs = performance.now() - killedAt;
  if (firstFailure !== undefined) log(`  ${failed} requests failed; first before the signal: ${firstFailure}`);
  return { acks, singleRequests, multiRequests, failed, killedAt, jvmGoneMs };
}

interface Check {
  readonly lost: Ack[];
  /** Records of this case in the log that were never acknowledged (in flight at the stop, committed anyway). */
  readonly unacked: number;
}

/** Reads every partition from the start; waits (up to a few slot timeouts) for holes to be filled. */
async function check(dev: Dev, acks: readonly Ack[], tag: string): Promise<Check> {
  const deadline = Date.now() + 5 * SLOT_TIMEOUT_MS + 5_000;
  const lost: Ack[] = [];
  let unacked = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    const mine = acks.filter((a) => a.partition === p);
    const maxAcked = Math.max(-1, ...mine.map((a) => a.offset));
    let stored: Map<number, string>;
    for (;;) {
      stored = new Map();
      let offset = 0;
      let hwm = 0;
      for (;;) {
        const text = await call((path, init) => fetch(dev.base + path, init), `/v1/topics/${TOPIC}/partitions/${p}/records?offset=${offset}&maxRecords=10000&encoding=string`);
        const page = JSON.parse(text) as { records: { offset: number; value: string }[]; nextOffset: number; highWatermark: number };
        for (const r of page.records) stored.set(r.offset, r.value);
        hwm = page.highWatermark;
        if (page.nextOffset >= hwm || page.records.length === 0) break;
        offset = page.nextOffset;
      }
      // Acked offsets at or past the high watermark wait behind a slot a killed server left
      // reserved: readers fill it with a hole after SLUICE_SLOT_TIMEOUT_MS.
      if (maxAcked < hwm || Date.now() > deadline) break;
      await sleep(250);
    }
    const ackedValues = new Set(mine.map((a) => a.value));
    for (const a of mine) if (stored.get(a.offset) !== a.value) lost.push(a);
    for (const v of stored.values()) if (v.startsWith(`${tag}-`) && !ackedValues.has(v)) unacked++;
  }
  return { lost, unacked };
}

interface CaseRun {
  readonly mode: Mode;
  readonly load: LoadResult & { jvmGoneMs: number };
  readonly lost: Ack[];
  readonly unacked: number;
}

async function round(r: number, seconds: number): Promise<CaseRun[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-durability-'));
  const out: CaseRun[] = [];
  try {
    log(`round ${r}: starting sluice dev on ${dataDir} ...`);
    let dev = await startDev(dataDir);
    await call((path, init) => fetch(dev.base + path, init), '/v1/topics', postJson(JSON.stringify({ name: TOPIC, partitions: PARTITIONS })));
    const all: Ack[] = [];
    for (const mode of MODES) {
      log(`round ${r}: ${seconds} s of load, then ${mode} ...`);
      const tag = `r${r}-${mode}`;
      const load = await loadAndStop(dev, mode, seconds * 1000, tag);
      all.push(...load.acks);
      dev = await startDev(dataDir);
      const { lost, unacked } = await check(dev, all, tag);
      const lostHere = lost.filter((a) => a.mode === mode);
      const lostEarlier = lost.length - lostHere.length;
      if (lostEarlier > 0) log(`round ${r}: ${lostEarlier} records acknowledged before the ${mode} case went missing after it`);
      // Records lost in this case are forgotten, so later checks do not count them again.
      for (const a of lost) all.splice(all.indexOf(a), 1);
      log(`round ${r}: ${mode}: ${load.acks.length} records acked, ${lostHere.length} lost; JVM gone ${fmtNum(load.jvmGoneMs)} ms after the signal`);
      out.push({ mode, load, lost: lostHere, unacked });
    }
    dev.child.kill('SIGTERM');
    await dev.exited;
    await rm(dataDir, { recursive: true, force: true });
    return out;
  } catch (err) {
    log(`round ${r} failed; its data dir is kept for a look: ${dataDir}`);
    throw err;
  }
}

// ---- the emulator alone -----------------------------------------------------------------------

const RAW_TABLE = 'durability';
const RAW_WORKERS = 16;
type RawVariant = 'answer' | 'after-commit-wait';

interface RawRun {
  readonly variant: RawVariant;
  readonly acked: number;
  readonly lost: number;
  readonly atRisk: number;
  readonly lostAgoMs: number[];
}

function rawClient(db: DynamoDbLocal): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: db.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: 64 } },
  });
}

/** Load for `ms`, SIGKILL the JVM, restart on the same dbPath, look up every acknowledged item. */
async function rawCycle(db: DynamoDbLocal, dbPath: string, variant: RawVariant, ms: number, tag: string): Promise<{ run: RawRun; db: DynamoDbLocal }> {
  const client = rawClient(db);
  const acked: { keys: string[]; at: number }[] = [];
  let stop = false;
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; !stop; i++) {
      const keys = Array.from({ length: MULTI }, (_, k) => `${tag}-${w}-${i}-${k}`);
      try {
        await client.send(new TransactWriteItemsCommand({ TransactItems: keys.map((pk) => ({ Put: { TableName: RAW_TABLE, Item: { pk: { S: pk } } } })) }));
        if (variant === 'after-commit-wait') await client.send(new ListTablesCommand({ Limit: 1 }));
        acked.push({ keys, at: performance.now() });
      } catch {
        return; // the JVM is gone
      }
    }
  };
  const workers = Array.from({ length: RAW_WORKERS }, (_, w) => worker(w));
  await sleep(ms);
  const killedAt = performance.now();
  process.kill(db.pid, 'SIGKILL');
  stop = true;
  await Promise.all(workers);
  client.destroy();
  while (isDynamoDbLocal(db.pid)) await sleep(5);
  const next = await startDynamoDbLocal({ dbPath });
  const reader = rawClient(next);
  const lostAgoMs: number[] = [];
  try {
    const keys = acked.flatMap((a) => a.keys.map((k) => ({ k, at: a.at })));
    for (let i = 0; i < keys.length; i += 100) {
      const batch = keys.slice(i, i + 100);
      let want = batch.map((b) => b.k);
      const found = new Set<string>();
      while (want.length > 0) {
        const res = await reader.send(new BatchGetItemCommand({ RequestItems: { [RAW_TABLE]: { Keys: want.map((pk) => ({ pk: { S: pk } })), ConsistentRead: true } } }));
        for (const item of res.Responses?.[RAW_TABLE] ?? []) found.add(item.pk!.S!);
        want = (res.UnprocessedKeys?.[RAW_TABLE]?.Keys ?? []).map((k) => k.pk!.S!);
      }
      for (const b of batch) if (!found.has(b.k)) lostAgoMs.push(killedAt - b.at);
    }
  } finally {
    reader.destroy();
  }
  const lostTransactions = Math.round(lostAgoMs.length / MULTI);
  return {
    run: {
      variant,
      acked: acked.length,
      lost: lostTransactions,
      atRisk: acked.filter((a) => a.at >= killedAt - AT_RISK_MS).length,
      lostAgoMs: lostAgoMs.filter((_, i) => i % MULTI === 0),
    },
    db: next,
  };
}

async function rawRounds(cycles: number, seconds: number): Promise<RawRun[]> {
  const dbPath = await mkdtemp(join(tmpdir(), 'sluice-durability-raw-'));
  let db = await startDynamoDbLocal({ dbPath });
  const out: RawRun[] = [];
  try {
    const setup = rawClient(db);
    await setup.send(
      new CreateTableCommand({
        TableName: RAW_TABLE,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    setup.destroy();
    for (let c = 1; c <= cycles; c++) {
      for (const variant of ['answer', 'after-commit-wait'] as const) {
        log(`emulator alone, cycle ${c}: ${seconds} s of transactions (ack = ${variant}), then SIGKILL ...`);
        const { run, db: next } = await rawCycle(db, dbPath, variant, seconds * 1000, `c${c}-${variant}`);
        db = next;
        log(`  ${run.acked} transactions acked, ${run.lost} lost`);
        out.push(run);
      }
    }
  } finally {
    await db.stop();
    await rm(dbPath, { recursive: true, force: true });
  }
  return out;
}

// ---- what the commit wait costs -----------------------------------------------------------------

interface CostRow {
  readonly producers: number;
  readonly wait: boolean;
  readonly rates: number[];
  readonly latenciesMs: number[];
}

async function commitWaitCost(rounds: number, ms: number): Promise<CostRow[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-durability-cost-'));
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const stack = await startLocalStack({ dataDir });
  // Same emulators, clients without the stack's commit wait.
  const plain = createAwsClients({ dynamoEndpoint: stack.dynamoEndpoint, s3Endpoint: stack.s3Endpoint, region: 'us-east-1', dummyCredentials: true });
  try {
    const appOf = (clients: typeof plain) => inProcess(createApp({ clients, names: stack.names, clock: systemClock, ids: randomIds, backend: 'local' }));
    const apps = { on: appOf(stack.clients), off: appOf(plain) };
    await call(apps.on, '/v1/topics', postJson(JSON.stringify({ name: TOPIC, partitions: MULTI })));
    const body = postJson(JSON.stringify({ encoding: 'string', records: Array.from({ length: MULTI }, (_, p) => ({ partition: p, value: 'x'.repeat(100) })) }));
    const produce = (req: typeof apps.on) => async () => void (await call(req, `/v1/topics/${TOPIC}/records`, body));
    log('commit wait cost: JVM warm-up (3 s) ...');
    await timedLoop(8, 3000, produce(apps.off));
    const rows: CostRow[] = [];
    for (const producers of [1, 16]) {
      for (const wait of [false, true]) rows.push({ producers, wait, rates: [], latenciesMs: [] });
      for (let r = 1; r <= rounds; r++) {
        for (const wait of [false, true]) {
          log(`commit wait cost: ${producers} producers, wait ${wait ? 'on' : 'off'}, round ${r} ...`);
          const loop = await timedLoop(producers, ms, produce(wait ? apps.on : apps.off));
          if (loop.errors > 0) throw new Error(`commit wait cost: ${loop.errors} requests failed: ${String(loop.firstError)}`);
          const row = rows.find((x) => x.producers === producers && x.wait === wait)!;
          row.rates.push(loop.ops / (loop.elapsedMs / 1000));
          row.latenciesMs.push(...loop.latenciesMs);
        }
      }
    }
    return rows;
  } finally {
    plain.dynamo.destroy();
    plain.s3.destroy();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<void> {
  if (!existsSync('/proc')) throw new Error('local-durability reads /proc to follow the JVM: Linux only');
  // --rounds=0 skips the dev server cases (for a longer run of the emulator-alone part).
  const rounds = args.includes('--rounds=0') ? 0 : numberArg(args, 'rounds', 3);
  const seconds = numberArg(args, 'seconds', 2);
  const started = Date.now();
  const where = machine();
  const cycles = numberArg(args, 'cycles', 4);
  const runs: CaseRun[] = [];
  for (let r = 1; r <= rounds; r++) runs.push(...(await round(r, seconds)));
  const raw = await rawRounds(cycles, 1);
  const cost = await commitWaitCost(3, 2000);

  const rows = MODES.map((mode) => {
    const mine = runs.filter((c) => c.mode === mode);
    const acks = mine.flatMap((c) => c.load.acks);
    const lost = mine.flatMap((c) => c.lost);
    const atRisk = mine.flatMap((c) => c.load.acks.filter((a) => a.at >= c.load.killedAt - AT_RISK_MS && a.multi));
    const atRiskRequests = new Set(atRisk.map((a) => a.value.replace(/-p\d+$/, ''))).size;
    const lostMulti = lost.filter((a) => a.multi);
    const lostRequests = (acksOf: Ack[]) => new Set(acksOf.map((a) => a.value.replace(/-p\d+$/, ''))).size;
    const gone = mine.map((c) => fmtNum(c.load.jvmGoneMs)).join(' / ');
    return [
      MODE_LABEL[mode],
      String(mine.length),
      fmtNum(mine.reduce((n, c) => n + c.load.singleRequests, 0)),
      fmtNum(mine.reduce((n, c) => n + c.load.multiRequests, 0)),
      fmtNum(acks.length),
      `${fmtNum(lostRequests(lost.filter((a) => !a.multi)))} / ${fmtNum(lostRequests(lostMulti))}`,
      fmtNum(lost.length),
      fmtNum(atRiskRequests),
      gone,
      fmtNum(mine.reduce((n, c) => n + c.unacked, 0)),
    ];
  });

  console.log(`Run ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${where}; ${rounds} rounds, ${seconds} s of load before each stop; total ${fmtNum((Date.now() - started) / 1000)} s.`);
  console.log(`Load: ${SINGLE_WORKERS} workers sending 1 record to 1 partition, ${MULTI_WORKERS} sending ${MULTI} records to ${MULTI} partitions (one TransactWriteItems), topic of ${PARTITIONS} partitions, over HTTP to \`sluice dev\`.\n`);
  console.log(
    table(
      ['case', 'runs:', 'acked 1-partition requests:', 'acked 4-partition requests:', 'acked records:', 'lost requests (1-p / 4-p):', 'lost records:', `4-p requests acked ≤ ${AT_RISK_MS} ms before the signal:`, 'JVM gone after (ms, per run):', 'committed but unacked records:'],
      rows,
    ),
  );
  for (const c of runs) {
    for (const a of c.lost) console.log(`- lost in ${c.mode}: partition ${a.partition} offset ${a.offset} (${a.multi ? '4-partition' : '1-partition'} request), acked ${(c.load.killedAt - a.at).toFixed(1)} ms before the signal`);
  }

  console.log(`\nThe emulator alone: ${RAW_WORKERS} workers sending ${MULTI}-item TransactWriteItems (new items) to DynamoDB Local with -dbPath for 1 s, then SIGKILL to the JVM, restart, BatchGetItem of every acknowledged item; ${cycles} cycles per variant, alternating.\n`);
  const rawRows = (['answer', 'after-commit-wait'] as const).map((variant) => {
    const mine = raw.filter((r) => r.variant === variant);
    const ago = mine.flatMap((r) => r.lostAgoMs).sort((x, y) => x - y);
    return [
      variant === 'answer' ? "emulator's answer" : 'answer + a ListTables queued behind the COMMIT',
      String(mine.length),
      fmtNum(mine.reduce((n, r) => n + r.acked, 0)),
      mine.map((r) => String(r.lost)).join(' / '),
      fmtNum(mine.reduce((n, r) => n + r.lost, 0)),
      fmtNum(mine.reduce((n, r) => n + r.atRisk, 0)),
      ago.length === 0 ? '–' : ago.map((a) => a.toFixed(1)).join(', '),
    ];
  });
  console.log(
    table(
      ['acknowledged at', 'kills:', 'acked transactions:', 'lost per kill:', 'lost transactions:', `acked ≤ ${AT_RISK_MS} ms before the kill:`, 'lost ones were acked … ms before the kill (< 0: answer read after the signal)'],
      rawRows,
    ),
  );

  console.log(`\nWhat the commit wait costs: POST of ${MULTI} records to ${MULTI} partitions (one TransactWriteItems) through the app in process, persisted local stack, 3 interleaved rounds of 2 s; requests/s = median round, latencies pooled.\n`);
  console.log(
    table(
      ['producers:', 'commit wait', 'requests/s (median):', 'rounds:', 'p50 ms:', 'p99 ms:'],
      cost.map((row) => {
        const lat = summarize(row.latenciesMs);
        return [
          String(row.producers),
          row.wait ? 'on (shipped)' : 'off',
          fmtNum([...row.rates].sort((a, b) => a - b)[row.rates.length >> 1]!),
          row.rates.map((r) => fmtNum(r)).join(' / '),
          fmtMs(lat.p50),
          fmtMs(lat.p99),
        ];
      }),
    ),
  );
}
