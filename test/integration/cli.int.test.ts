/**
 * The `sluice` client commands as a user runs them: the real bin/sluice.js (→ tsx →
 * lib/cli/main.ts) as a child process, stdin piped, stdout and stderr captured, against the
 * app served over HTTP on the shared stack (SLUICE_URL). Covers every client command, --json
 * output, -K keys in Kafka's partition, the encodings, --file, consume's start options, -c,
 * -f tokens and --follow, a group's commits in `groups describe`, reset-offsets (every --to-*,
 * with and without --dry-run), local-time dates, SIGINT (also sent to the whole process group,
 * as a terminal's Ctrl-C is), a reader that goes away (`| head -1`), the token flag, and the
 * exit codes: 1 with one line for a failed operation, 2 with one line for a usage error.
 *
 * Each child costs about a second of tsx start-up, so the tests run concurrently (each on its
 * own topics and groups) and set up their data through the REST API where the CLI is not what
 * they test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../lib/partition/partitioner.ts';
import { SLUICE_VERSION } from '../../lib/version.ts';
import { serveApp, type ServedApp } from '../support/http-server.ts';
import { call, uniqueName } from '../support/http.ts';
import { stackApp } from '../support/stack.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO, 'bin', 'sluice.js');
const TOKEN = 'cli-test-token';

const app = stackApp();
const authApp = stackApp({ authToken: TOKEN });
let served: ServedApp;
let servedAuth: ServedApp;
const running = new Set<ChildProcess>();

beforeAll(async () => {
  [served, servedAuth] = await Promise.all([serveApp(app), serveApp(authApp)]);
});
afterAll(async () => {
  for (const child of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL'); // a detached child's whole group
    } catch {
      child.kill('SIGKILL');
    }
  }
  await Promise.all([served?.close(), servedAuth?.close()]);
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Started {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly done: Promise<Run>;
}

interface StartOptions {
  /** What stdin gets, then it is closed; `null`: left open (write to child.stdin). */
  readonly stdin?: string | null;
  readonly env?: NodeJS.ProcessEnv;
  /** In its own process group, so that process.kill(-pid) signals it all, as a terminal does. */
  readonly detached?: boolean;
}

/** The environment of the shell running the tests must not leak into what the CLI connects to. */
function cliEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { SLUICE_TOKEN: _t, SLUICE_URL: _u, AWS_REGION: _r, AWS_DEFAULT_REGION: _d, ...env } = process.env;
  return { ...env, SLUICE_URL: served.base, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra };
}

function start(args: readonly string[], opts: StartOptions = {}): Started {
  return startProcess(process.execPath, [BIN, ...args], opts);
}

function startProcess(command: string, args: readonly string[], opts: StartOptions = {}): Started {
  const child = spawn(command, args, { cwd: REPO, env: cliEnv(opts.env ?? {}), stdio: ['pipe', 'pipe', 'pipe'], detached: opts.detached ?? false });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdin!.on('error', () => {}); // a command that exits before reading stdin
  if (opts.stdin !== null) child.stdin!.end(opts.stdin ?? '');
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** `done`, or a failure naming what is still running after `ms` (then the process group is killed). */
async function within(started: Started, ms: number, what: string): Promise<Run> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        process.kill(-started.child.pid!, 'SIGKILL');
      } catch {
        started.child.kill('SIGKILL');
      }
      reject(new Error(`${what}: still running after ${ms} ms; stderr: ${started.stderr()}`));
    }, ms);
  });
  try {
    return await Promise.race([started.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sluice(args: readonly string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return start(args, opts).done;
}

/** Runs and expects exit 0 with nothing on stderr; answers stdout. */
async function ok(args: readonly string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const run = await sluice(args, opts);
  expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: expect.any(String) });
  return run.stdout;
}

/** Runs a --json command and parses its stdout. */
async function json<T = any>(args: readonly string[], opts: { stdin?: string } = {}): Promise<T> {
  return JSON.parse(await ok([...args, '--json'], opts)) as T;
}

function expectOneLine(run: Run, code: number, pattern: RegExp): void {
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code, stderr: expect.stringMatching(pattern) });
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stdout).toBe('');
}

async function createTopic(partitions: number, config?: Record<string, string>): Promise<string> {
  const name = uniqueName('cli');
  expect((await call(app, 'POST', '/v1/topics', { name, partitions, ...(config ? { config } : {}) })).status).toBe(201);
  return name;
}

async function committedOffsets(group: string): Promise<number[]> {
  const res = await call(app, 'GET', `/v1/groups/${group}/offsets`);
  return (res.body.offsets as { partition: number; offset: number }[]).sort((a, b) => a.partition - b.partition).map((o) => o.offset);
}

async function members(group: string): Promise<unknown[]> {
  return (await call(app, 'GET', `/v1/groups/${group}`)).body.members as unknown[];
}

/** A bash pipeline `sluice ARGS | READER`, its own process group; stderr ends with sluice's exit status. */
function piped(args: readonly string[], reader: string): Started {
  return startProcess('bash', ['-c', `node "$0" "$@" | ${reader}; echo "sluice exit \${PIPESTATUS[0]}" >&2`, BIN, ...args], { detached: true });
}

async function produceDirect(topic: string, records: unknown[]): Promise<void> {
  expect((await call(app, 'POST', `/v1/topics/${topic}/records`, { encoding: 'string', records })).status).toBe(200);
}

async function highWatermarks(topic: string): Promise<number[]> {
  const res = await call(app, 'GET', `/v1/topics/${topic}`);
  return (res.body.partitions as { highWatermark: number }[]).map((p) => p.highWatermark);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Concurrent tests take `expect` from their context: expect.poll must know which test it is in.
describe.concurrent('sluice client commands (bin/sluice.js against a served app)', () => {
  it('cluster: text and --json', async ({ expect }) => {
    const [text, info] = await Promise.all([ok(['cluster']), json(['cluster'])]);
    expect(text).toMatch(new RegExp(`^version  ${SLUICE_VERSION.replace(/\./g, '\\.')}\nbackend  local\nlimits:\n  maxRequestBytes +\\d+`));
    expect(info).toMatchObject({ version: SLUICE_VERSION, backend: 'local', limits: { maxPartitionsPerRequest: expect.any(Number) } });
  });

  it('topics create, list, describe, alter (set and reset config), delete', async ({ expect }) => {
    const name = uniqueName('cli');
    const other = uniqueName('cli');
    const created = await json(['topics', 'create', name, '--partitions', '2', '--config', 'retention.ms=3600000', '--config', 'cleanup.policy=compact,delete']);
    expect(created).toMatchObject({ name, partitions: 2, topicId: expect.any(String), config: { 'retention.ms': 3600000 } });
    expect(String(created.config['cleanup.policy'])).toMatch(/compact/);

    const [listed, listText, described, describeText, again, createText] = await Promise.all([
      json<{ topics: { name: string; partitions: number }[] }>(['topics', 'list']),
      ok(['topics', 'list']),
      json(['topics', 'describe', name]),
      ok(['topics', 'describe', name]),
      sluice(['topics', 'create', name]),
      ok(['topics', 'create', other]),
    ]);
    expect(listed.topics).toContainEqual(expect.objectContaining({ name, partitions: 2 }));
    expect(listText).toMatch(/^NAME +PARTITIONS +TOPIC-ID\n/);
    expect(listText).toMatch(new RegExp(`\n${name} +2 +${created.topicId}\n`));
    expect(described).toMatchObject({ name, topicId: created.topicId, partitions: [{ partition: 0, logStartOffset: 0, highWatermark: 0, sizeBytes: 0, segments: 0 }, { partition: 1 }] });
    expect(describeText).toContain('PARTITION  LOG-START-OFFSET  HIGH-WATERMARK  SIZE-BYTES  SEGMENTS\n0          0                 0               0           0\n');
    expect(describeText).toMatch(/\n {2}retention\.ms +3600000\n/);
    expectOneLine(again, 1, /^sluice: TOPIC_ALREADY_EXISTS: /);
    expect(createText).toBe(`created topic ${other} (1 partition)\n`);

    const altered = await json(['topics', 'alter', name, '--partitions', '3', '--config', 'retention.ms=', '--config', 'max.message.bytes=2048']);
    expect(altered).toMatchObject({ partitions: 3, config: { 'retention.ms': 604800000, 'max.message.bytes': 2048 } });
    const reset = await ok(['topics', 'alter', name, '--delete-config', 'max.message.bytes']);
    expect(reset).toBe(`altered topic ${name}: 3 partitions, max.message.bytes=1048576 (default)\n`);

    expect(await ok(['topics', 'delete', name])).toBe(`deleted topic ${name}\n`);
    expect((await call(app, 'GET', `/v1/topics/${name}`)).status).toBe(404);
  });

  it('produce -K puts each key in its Kafka partition (murmur2), as describe and consume show', async ({ expect }) => {
    const topic = await createTopic(4);
    const keys = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const input = `${keys.map((k, i) => `${k}:value ${i}:with colon`).join('\n')}\n`;
    const summary = await json(['produce', topic, '-K', ':'], { stdin: input });
    expect(summary).toMatchObject({ topic, records: 40, requests: expect.any(Number) });

    const expected = [0, 0, 0, 0];
    for (const k of keys) expected[partitionForKey(Buffer.from(k, 'utf8'), 4)]!++;
    expect(await highWatermarks(topic)).toEqual(expected);
    const perPartition = Object.fromEntries((summary.partitions as { partition: number; records: number }[]).map((p) => [p.partition, p.records]));
    expect(perPartition).toEqual(Object.fromEntries(expected.flatMap((n, p) => (n > 0 ? [[p, n]] : []))));

    const out = await ok(['consume', topic, '--from-beginning', '-f', '%p|%k|%s\\n']);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(40);
    for (const line of lines) {
      const [p, key, value] = line.split('|');
      expect(Number(p), key).toBe(partitionForKey(Buffer.from(key!, 'utf8'), 4));
      expect(value).toBe(`value ${keys.indexOf(key!)}:with colon`); // split at the FIRST delimiter
    }
  });

  it('produce: summary on stderr, empty lines skipped, headers and --partition; consume --json has the API fields', async ({ expect }) => {
    const topic = await createTopic(2);
    const run = await sluice(['produce', topic, '--partition', '1', '--header', 'source=cli', '--header', 'k=a=b'], { stdin: 'one\n\ntwo\r\nthree' });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^produced 3 records \\(11 B\\) to ${topic} in \\d+\\.\\d s\n$`));
    expect(await highWatermarks(topic)).toEqual([0, 3]);

    const lines = (await ok(['consume', topic, '--from-beginning', '--json'])).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((r) => r.value)).toEqual(['one', 'two', 'three']);
    expect(lines[0]).toEqual({
      topic, partition: 1, offset: 0, timestamp: expect.any(Number), key: null, value: 'one',
      headers: [{ key: 'source', value: 'cli' }, { key: 'k', value: 'a=b' }],
    });
    const formatted = await ok(['consume', topic, '--from-beginning', '-f', '%t %p %o %k|%s %S [%h]%%\\n']);
    expect(formatted.split('\n')[0]).toBe(`${topic} 1 0 |one 3 [source=cli,k=a=b]%`);
  });

  it('produce --encoding json: values as JSON; a bad line fails with its number (stdin: what came before is sent; --file: nothing is)', async ({ expect }) => {
    const [good, fromStdin, fromFile] = await Promise.all([createTopic(1), createTopic(1), createTopic(1)]);
    const bad = '{"a":1}\n{"b":2}\nnot json\n{"c":3}\n';
    const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
    try {
      await writeFile(join(dir, 'in.jsonl'), bad);
      await Promise.all([
        (async () => {
          await ok(['produce', good, '--encoding', 'json'], { stdin: '{"amount":200}\n"text"\n[1,2]\n' });
          expect(await ok(['consume', good, '--from-beginning', '--encoding', 'json'])).toBe('{"amount":200}\n"text"\n[1,2]\n');
        })(),
        (async () => {
          const run = await sluice(['produce', fromStdin, '--encoding', 'json'], { stdin: bad });
          expectOneLine(run, 1, /^sluice: INVALID_RECORD: line 3: the value is not JSON .*\(2 records produced before it\)\n$/);
          expect(await highWatermarks(fromStdin)).toEqual([2]);
        })(),
        (async () => {
          const run = await sluice(['produce', fromFile, '--encoding', 'json', '--file', join(dir, 'in.jsonl')]);
          expectOneLine(run, 1, /^sluice: INVALID_RECORD: line 3: /);
          expect(await highWatermarks(fromFile)).toEqual([0]);
        })(),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('consume: -c, --offset (also from the end), --timestamp, --partition; default: from the end, exits at once', async ({ expect }) => {
    const topic = await createTopic(2);
    const t0 = Date.now() - 60_000;
    await produceDirect(topic, Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `p0-${i}`, timestamp: t0 + i * 1000 })));
    await produceDirect(topic, [{ partition: 1, value: 'p1-0', timestamp: t0 }]);
    const [count, offset, fromEnd, timestamp, iso, latest] = await Promise.all([
      ok(['consume', topic, '--from-beginning', '--partition', '0', '-c', '3']),
      ok(['consume', topic, '--partition', '0', '--offset', '7']),
      ok(['consume', topic, '--partition', '0', '--offset', '-2', '-f', '%o\\n']),
      ok(['consume', topic, '--partition', '0', '--timestamp', String(t0 + 8000)]),
      ok(['consume', topic, '--timestamp', new Date(t0 + 9000).toISOString(), '-f', '%p:%s\\n']),
      ok(['consume', topic]),
    ]);
    expect(count).toBe('p0-0\np0-1\np0-2\n');
    expect(offset).toBe('p0-7\np0-8\np0-9\n');
    expect(fromEnd).toBe('8\n9\n');
    expect(timestamp).toBe('p0-8\np0-9\n');
    expect(iso).toBe('0:p0-9\n');
    expect(latest).toBe('');
  });

  it('consume --group commits what it printed: groups describe shows it, then reset-offsets --dry-run changes nothing and a reset does', async ({ expect }) => {
    const topic = await createTopic(2);
    const group = uniqueName('g');
    await produceDirect(topic, [
      { partition: 0, value: 'a' }, { partition: 0, value: 'b' }, { partition: 0, value: 'c' }, { partition: 1, value: 'd' },
    ]);
    const consumed = await ok(['consume', topic, '--group', group, '--from-beginning', '-f', '%p:%s\\n']);
    expect(consumed.trimEnd().split('\n').sort()).toEqual(['0:a', '0:b', '0:c', '1:d']);

    const [described, groups] = await Promise.all([json(['groups', 'describe', group]), json<{ groups: { group: string }[] }>(['groups', 'list'])]);
    expect(described).toMatchObject({ group, state: 'Empty', members: 0 });
    expect(described.offsets).toEqual([
      expect.objectContaining({ topic, partition: 0, offset: 3, highWatermark: 3, lag: 0 }),
      expect.objectContaining({ topic, partition: 1, offset: 1, highWatermark: 1, lag: 0 }),
    ]);
    expect(groups.groups).toContainEqual(expect.objectContaining({ group, state: 'Empty' }));
    // A second run of the group starts at its commits: nothing new to print.
    expect(await ok(['consume', topic, '--group', group, '--from-beginning'])).toBe('');

    const committed = async () => ((await call(app, 'GET', `/v1/groups/${group}/offsets`)).body.offsets as { offset: number }[]).map((o) => o.offset);
    const [dry, dryText] = await Promise.all([
      json(['groups', 'reset-offsets', group, '--topic', topic, '--to-earliest', '--dry-run']),
      sluice(['groups', 'reset-offsets', group, '--topic', topic, '--to-offset', '1', '--dry-run']),
    ]);
    expect(dry).toEqual({ group, topic, dryRun: true, offsets: [expect.objectContaining({ partition: 0, offset: 0 }), expect.objectContaining({ partition: 1, offset: 0 })] });
    expect(dryText.stdout).toBe(
      [`GROUP${' '.repeat(group.length - 3)}TOPIC${' '.repeat(topic.length - 3)}PARTITION  NEW-OFFSET`, `${group}  ${topic}  0          1`, `${group}  ${topic}  1          1`, ''].join('\n'),
    );
    expect(dryText.stderr).toMatch(/^dry run: no offsets were changed/);
    expect(await committed()).toEqual([3, 1]);

    const applied = await json(['groups', 'reset-offsets', group, '--topic', topic, '--to-offset', '1']);
    expect(applied).toMatchObject({ dryRun: false, offsets: [{ partition: 0, offset: 1 }, { partition: 1, offset: 1 }] });
    expect(await committed()).toEqual([1, 1]);
    const table = await ok(['groups', 'describe', group]);
    expect(table).toMatch(/TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +MEMBER\n/);
    expect(table).toMatch(new RegExp(`\n${topic} +0 +1 +3 +2 +-\n${topic} +1 +1 +1 +0 +-\n`));
    expect(await ok(['consume', topic, '--group', group, '-f', '%s'])).toBe('bc');

    expect(await ok(['groups', 'delete', group])).toBe(`deleted group ${group}\n`);
    expect((await call(app, 'GET', `/v1/groups/${group}`)).status).toBe(404);
  });

  it("consume --group -c commits exactly what it printed; groups describe shows '-' where nothing is committed", async ({ expect }) => {
    const topic = await createTopic(2);
    const group = uniqueName('g');
    await produceDirect(topic, [{ partition: 0, value: 'x0' }, { partition: 0, value: 'x1' }, { partition: 1, value: 'y0' }, { partition: 1, value: 'y1' }]);
    const printed = await ok(['consume', topic, '--group', group, '--from-beginning', '-c', '1', '-f', '%p']);
    expect(['0', '1']).toContain(printed);
    const [p, other] = printed === '0' ? [0, 1] : [1, 0];
    const [table, listed] = await Promise.all([ok(['groups', 'describe', group]), ok(['groups', 'list'])]);
    expect(table).toContain(`group ${group}  state Empty  0 members\n`);
    const rows = new Map(table.trimEnd().split('\n').slice(3).map((line) => [Number(line.split(/ +/)[1]), line.split(/ +/).slice(2)]));
    expect(rows.get(p)).toEqual(['1', '2', '1', '-']); // the record after the one printed
    expect(rows.get(other)).toEqual(['-', '2', '-', '-']);
    expect(listed).toMatch(new RegExp(`\n${group} +Empty +0\n`));
  });

  it('consume --follow --group: prints records as they arrive; SIGINT commits, leaves and exits 0', async ({ expect }) => {
    const topic = await createTopic(1);
    const group = uniqueName('g');
    const tail = start(['consume', topic, '--group', group, '--follow', '--from-beginning']);
    // Once the group lists the member it is consuming; from the beginning, whenever it got its position.
    await expect.poll(async () => (await call(app, 'GET', `/v1/groups/${group}`)).body?.members?.length ?? 0, { timeout: 20_000 }).toBe(1);
    await produceDirect(topic, [{ value: 'first' }, { value: 'second' }]);
    await expect.poll(() => tail.stdout(), { timeout: 20_000 }).toBe('first\nsecond\n');
    const live = await json(['groups', 'describe', group]);
    expect(live).toMatchObject({ group, members: 1, offsets: [{ topic, partition: 0, memberId: expect.any(String) }] });
    tail.child.kill('SIGINT');
    const run = await tail.done;
    expect(run.code).toBe(0);
    const offsets = (await call(app, 'GET', `/v1/groups/${group}/offsets`)).body.offsets;
    expect(offsets).toEqual([expect.objectContaining({ topic, partition: 0, offset: 2, lag: 0 })]);
    expect((await call(app, 'GET', `/v1/groups/${group}`)).body.members).toEqual([]);
  });

  it('usage errors: one line, exit code 2, nothing on stdout', async ({ expect }) => {
    const topic = await createTopic(1);
    // commander's own errors are covered in process (test/unit/cli); these go through the real binary.
    const cases: [string[], RegExp][] = [
      [['topics', 'create', 'x', '--bogus'], /unknown option '--bogus'/],
      [['topics', 'create'], /missing required argument 'name'/],
      [['topics', 'create', 'x', '--partitions', 'many'], /'--partitions <n>' argument 'many' is invalid/],
      [['consume', topic, '--from-beginning', '--offset', '3'], /--from-beginning and --offset cannot be used together/],
      [['groups', 'reset-offsets', 'g', '--topic', topic, '--to-earliest', '--to-latest'], /only one of/],
      [['topcs'], /unknown command 'topcs'/],
      [['topics'], /^sluice: usage: 'sluice topics' needs a command: create, list, describe, alter, delete \(see 'sluice topics --help'\)\n$/],
      [['groups'], /^sluice: usage: 'sluice groups' needs a command: list, describe, reset-offsets, delete \(see 'sluice groups --help'\)\n$/],
    ];
    const runs = await Promise.all(cases.map(([args]) => sluice(args)));
    runs.forEach((run, i) => {
      const [args, pattern] = cases[i]!;
      expect({ args, code: run.code, stdout: run.stdout, lines: run.stderr.trimEnd().split('\n').length }).toEqual({ args, code: 2, stdout: '', lines: 1 });
      expect(run.stderr, args.join(' ')).toMatch(/^sluice: usage: /);
      expect(run.stderr, args.join(' ')).toMatch(pattern);
    });
  });

  it('failed operations: one line, exit code 1 (unknown topic or group, unreachable URL, missing token); SLUICE_TOKEN authenticates', async ({ expect }) => {
    const port = await closedPort();
    const authEnv = { SLUICE_URL: servedAuth.base };
    const [unknownTopic, unknownGroup, unknownProduce, unknownConsume, unreachable, noToken, withToken] = await Promise.all([
      sluice(['topics', 'describe', uniqueName('nope')]),
      sluice(['groups', 'describe', uniqueName('nope')]),
      sluice(['produce', uniqueName('nope')], { stdin: 'x\n' }),
      sluice(['consume', uniqueName('nope')]),
      sluice(['topics', 'list', '--url', `http://127.0.0.1:${port}`]),
      sluice(['topics', 'list'], { env: authEnv }),
      sluice(['cluster', '--json'], { env: { ...authEnv, SLUICE_TOKEN: TOKEN } }),
    ]);
    expectOneLine(unknownTopic, 1, /^sluice: UNKNOWN_TOPIC_OR_PARTITION: topic '.*' does not exist\n$/);
    expectOneLine(unknownGroup, 1, /^sluice: GROUP_ID_NOT_FOUND: /);
    expectOneLine(unknownProduce, 1, /^sluice: UNKNOWN_TOPIC_OR_PARTITION: /);
    expectOneLine(unknownConsume, 1, /^sluice: UNKNOWN_TOPIC_OR_PARTITION: /);
    expectOneLine(unreachable, 1, new RegExp(`^sluice: NETWORK_ERROR: could not reach http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expectOneLine(noToken, 1, /^sluice: UNAUTHENTICATED: /);
    expect(withToken.code).toBe(0);
    expect(JSON.parse(withToken.stdout)).toMatchObject({ version: SLUICE_VERSION });
  });
  it('--version prints the version of package.json', async ({ expect }) => {
    const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
    const [long, short] = await Promise.all([sluice(['--version']), sluice(['-V'])]);
    expect(long).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(short).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('produce --encoding base64: keys, values and headers are decoded to their bytes (as a base64 fetch shows)', async ({ expect }) => {
    const topic = await createTopic(1);
    const b64 = (bytes: number[]) => Buffer.from(bytes).toString('base64');
    const values = [[0, 255, 10, 13, 0x0a], [0xe2, 0x82], []];
    const keys = [[1, 2, 3], null, [0x0d, 0x0a]];
    const input = values.map((v, i) => (keys[i] === null ? b64(v) : `${b64(keys[i]!)}:${b64(v)}`)).join('\n');
    const run = await sluice(['produce', topic, '--encoding', 'base64', '-K', ':', '--header', `bin=${b64([0, 1, 254])}`], { stdin: `${input}\n` });
    expect(run).toMatchObject({ code: 0, stdout: '' });
    const res = await call(app, 'GET', `/v1/topics/${topic}/partitions/0/records?encoding=base64`);
    expect(res.status).toBe(200);
    expect((res.body.records as { key: string | null; value: string | null; headers: unknown[] }[]).map((r) => [r.key, r.value, r.headers])).toEqual(
      values.map((v, i) => [keys[i] === null ? null : b64(keys[i]!), v.length === 0 ? expect.toBeOneOf(['', null]) : b64(v), [{ key: 'bin', value: b64([0, 1, 254]) }]]),
    );
  });

  it('produce --file: a file of lines (CRLF, empty lines); an unreadable file or an endless line fails in one line, exit 1', async ({ expect }) => {
    const [topic, endless, fromStdin] = await Promise.all([createTopic(1), createTopic(1), createTopic(1)]);
    const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
    try {
      const file = join(dir, 'in.txt');
      await writeFile(file, 'alpha\r\n\r\nbeta\ngamma');
      const huge = 'x'.repeat(7 * 1024 * 1024); // over the server's maxRequestBytes (6 MiB)
      const fifo = createTopic(1);
      const fromPipe = fifo.then((t) => startProcess('bash', ['-c', 'seq 1 1000 | node "$0" produce "$1" --file /dev/stdin', BIN, t]).done);
      const [run, missing, directory, zeros, longLine] = await Promise.all([
        sluice(['produce', topic, '--file', file]),
        sluice(['produce', topic, '--file', join(dir, 'nope.txt')]),
        sluice(['produce', topic, '--file', dir]),
        sluice(['produce', endless, '--file', '/dev/zero']),
        sluice(['produce', fromStdin], { stdin: `first\n${huge}\nlast\n` }),
      ]);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(new RegExp(`^produced 3 records \\(14 B\\) to ${topic} in \\d+\\.\\d s\\n$`));
      expect(await ok(['consume', topic, '--from-beginning'])).toBe('alpha\nbeta\ngamma\n');
      expectOneLine(missing, 1, new RegExp(`^sluice: cannot read '${join(dir, 'nope.txt')}': no such file or directory\\n$`));
      expectOneLine(directory, 1, new RegExp(`^sluice: cannot read '${dir}': illegal operation on a directory\\n$`));
      expectOneLine(zeros, 1, /^sluice: RECORD_TOO_LARGE: line 1 is longer than \d+ bytes, the server's request limit \(maxRequestBytes\)\n$/);
      expectOneLine(longLine, 1, /^sluice: RECORD_TOO_LARGE: line 2 is longer than \d+ bytes, .*\(1 record produced before it\)\n$/);
      expect(await highWatermarks(topic)).toEqual([3]);
      expect(await highWatermarks(endless)).toEqual([0]);
      expect(await highWatermarks(fromStdin)).toEqual([1]);
      // A --file that can be read only once (a pipe) is read once, not checked first.
      expect(await fromPipe).toMatchObject({ code: 0, stderr: expect.stringMatching(/^produced 1000 records /) });
      expect(await highWatermarks(await fifo)).toEqual([1000]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('consume -f: %T is the timestamp, %K the key size in bytes (0 for a null key)', async ({ expect }) => {
    const topic = await createTopic(1);
    const t0 = Date.now() - 10_000;
    await produceDirect(topic, [{ key: 'k1', value: 'a', timestamp: t0 }, { value: 'b', timestamp: t0 + 1 }, { key: 'ключ', value: 'c', timestamp: t0 + 2 }]);
    expect(await ok(['consume', topic, '--from-beginning', '-f', '%o %T %K %k|%s\\n'])).toBe(`0 ${t0} 2 k1|a\n1 ${t0 + 1} 0 |b\n2 ${t0 + 2} 8 ключ|c\n`);
  });

  it('groups reset-offsets --to-latest and --to-datetime (ISO, ms), each also --dry-run', async ({ expect }) => {
    const topic = await createTopic(2);
    const group = uniqueName('g');
    const t0 = Date.now() - 60_000;
    await produceDirect(topic, [
      ...Array.from({ length: 4 }, (_, i) => ({ partition: 0, value: `p0-${i}`, timestamp: t0 + i * 1000 })),
      ...Array.from({ length: 2 }, (_, i) => ({ partition: 1, value: `p1-${i}`, timestamp: t0 + i * 3000 })),
    ]);
    const reset = (...args: string[]) => json(['groups', 'reset-offsets', group, '--topic', topic, ...args]);
    const offsets = (answer: { offsets: { partition: number; offset: number }[] }) => [...answer.offsets].sort((a, b) => a.partition - b.partition).map((o) => o.offset);

    expect(offsets(await reset('--to-earliest'))).toEqual([0, 0]);
    const [latestDry, datetimeDry, textDry] = await Promise.all([
      reset('--to-latest', '--dry-run'),
      reset('--to-datetime', new Date(t0 + 2000).toISOString(), '--dry-run'),
      sluice(['groups', 'reset-offsets', group, '--topic', topic, '--to-latest', '--dry-run']),
    ]);
    expect(latestDry).toMatchObject({ dryRun: true });
    expect(offsets(latestDry)).toEqual([4, 2]);
    expect(offsets(datetimeDry)).toEqual([2, 1]); // p0: the record at t0+2s; p1: the one at t0+3s
    expect(textDry.stdout).toMatch(new RegExp(`\\n${group} +${topic} +0 +4\\n${group} +${topic} +1 +2\\n$`));
    expect(textDry.stderr).toMatch(/^dry run: no offsets were changed/);
    expect(await committedOffsets(group)).toEqual([0, 0]);

    expect(offsets(await reset('--to-latest'))).toEqual([4, 2]);
    expect(await committedOffsets(group)).toEqual([4, 2]);
    expect(offsets(await reset('--to-datetime', String(t0 + 1000)))).toEqual([1, 1]);
    expect(await committedOffsets(group)).toEqual([1, 1]);
  });

  it('a date without Z or an offset is local time, a date alone local midnight (--timestamp, --to-datetime)', async ({ expect }) => {
    // In UTC+05:30, local midnight of 2024-05-01 is 2024-04-30T18:30Z: a record at 20:00Z is after it.
    const topic = await createTopic(1, { 'retention.ms': '-1' });
    const group = uniqueName('g');
    await produceDirect(topic, [
      { value: 'apr30-1800Z', timestamp: Date.UTC(2024, 3, 30, 18) },
      { value: 'apr30-2000Z', timestamp: Date.UTC(2024, 3, 30, 20) },
      { value: 'may01-0100Z', timestamp: Date.UTC(2024, 4, 1, 1) },
    ]);
    const env = { TZ: 'Asia/Kolkata' };
    const [dateOnly, dateTime, utc, dry] = await Promise.all([
      ok(['consume', topic, '--timestamp', '2024-05-01'], { env }),
      ok(['consume', topic, '--timestamp', '2024-05-01T05:00'], { env }),
      ok(['consume', topic, '--timestamp', '2024-05-01T00:00:00Z'], { env }),
      sluice(['groups', 'reset-offsets', group, '--topic', topic, '--to-datetime', '2024-05-01', '--dry-run', '--json'], { env }),
    ]);
    expect(dateOnly).toBe('apr30-2000Z\nmay01-0100Z\n');
    expect(dateTime).toBe('may01-0100Z\n'); // 05:00 local = 23:30Z
    expect(utc).toBe('may01-0100Z\n');
    expect(JSON.parse(dry.stdout).offsets).toEqual([expect.objectContaining({ partition: 0, offset: 1 })]);
  });

  it('consume --follow without --group: from the end, records produced after it started appear; SIGINT exits 0', async ({ expect }) => {
    const topic = await createTopic(1);
    await produceDirect(topic, [{ value: 'before' }]);
    const tail = start(['consume', topic, '--follow']);
    // It starts at the end once it has looked the end up: produce until a record shows up.
    const produced: string[] = [];
    await expect
      .poll(async () => {
        const value = `after-${produced.length}`;
        produced.push(value);
        await produceDirect(topic, [{ value }]);
        return tail.stdout();
      }, { timeout: 20_000, interval: 300 })
      .toMatch(/after-\d+\n/);
    await produceDirect(topic, [{ value: 'last' }]);
    await expect.poll(() => tail.stdout(), { timeout: 20_000 }).toMatch(/last\n$/);
    const lines = tail.stdout().trimEnd().split('\n');
    expect(lines).toEqual([...produced.slice(produced.indexOf(lines[0]!)), 'last']); // a contiguous tail, 'before' not in it
    tail.child.kill('SIGINT');
    expect(await within(tail, 15_000, 'consume --follow after SIGINT')).toMatchObject({ code: 0, stderr: '' });
  });

  it('| head -1: consume stops at the closed pipe and exits 0 at once; a member commits what it wrote and leaves', async ({ expect }) => {
    const topic = await createTopic(1);
    const group = uniqueName('g');
    // About 2 MB of output, far more than a pipe holds: writing must meet the closed pipe.
    const total = 20_000;
    const value = (i: number) => `record-${String(i).padStart(6, '0')}-${'x'.repeat(85)}`; // 100 B a line
    for (let i = 0; i < total; i += 5000) await produceDirect(topic, Array.from({ length: 5000 }, (_, j) => ({ value: value(i + j) })));
    // The member's reader takes one line, then holds the pipe a second without reading: the
    // pipe fills (64 KiB), the write under way blocks, then fails when the reader exits.
    const [plain, member] = [
      piped(['consume', topic, '--from-beginning'], 'head -1'),
      piped(['consume', topic, '--from-beginning', '--group', group], `{ IFS= read -r line; printf '%s\\n' "$line"; sleep 1; }`),
    ];
    const [p, m] = await Promise.all([within(plain, 20_000, 'consume | head -1'), within(member, 20_000, 'consume --group | a reader that stops')]);
    for (const run of [p, m]) expect(run).toEqual({ code: 0, stdout: `${value(0)}\n`, stderr: 'sluice exit 0\n' });
    expect(await members(group)).toEqual([]);
    // Committed: the records whose writes went through, i.e. at most the line read plus a full
    // pipe, and at least the first poll (it fits an empty pipe). Committing the poll whose
    // write failed would pass the pipe's 64 KiB.
    const [committed] = await committedOffsets(group);
    expect(committed).toBeGreaterThan(0);
    expect(committed! * 100).toBeLessThanOrEqual(65_536 + 100);
  });

  it('Ctrl-C to the whole process group (the CLI and a shell pipeline all get SIGINT): produce prints its summary and exits 130', async ({ expect }) => {
    const [fromStdin, fromFile] = await Promise.all([createTopic(1), createTopic(1)]);
    // A slow source on stdin; and `slow | sluice produce T --file /dev/stdin` in a shell. The
    // shell's writer stops when its pipe closes (`|| exit`), so the pipeline ends with sluice even
    // if the SIGINT meets the loop between commands on a loaded machine.
    const producing = start(['produce', fromStdin], { stdin: null, detached: true });
    const pipeline = startProcess('bash', ['-c', 'i=0; while :; do seq $i $((i + 199)) || exit 0; i=$((i + 200)); sleep 0.02; done | node "$0" produce "$1" --file /dev/stdin; echo "sluice exit ${PIPESTATUS[1]}" >&2', BIN, fromFile], { detached: true });
    let n = 0;
    const feed = setInterval(() => producing.child.stdin!.write(Array.from({ length: 200 }, () => `line ${n++}\n`).join('')), 20);
    try {
      const interrupted = async (started: Started, topic: string, what: string): Promise<string> => {
        // Past its first acknowledged chunk, it is reading: then the "terminal" sends Ctrl-C.
        await expect.poll(async () => (await highWatermarks(topic))[0], { timeout: 20_000 }).toBeGreaterThan(0);
        process.kill(-started.child.pid!, 'SIGINT');
        const run = await within(started, 15_000, `${what} after a process-group SIGINT`);
        expect(run.stdout).toBe('');
        const summary = /^produced (\d+) records \(.*\) to \S+ in \d+\.\d s\n/.exec(run.stderr);
        expect(summary, run.stderr).not.toBeNull();
        expect(await highWatermarks(topic)).toEqual([Number(summary![1])]);
        return `${run.code} ${run.stderr.slice(summary![0].length)}`;
      };
      const [direct, shell] = await Promise.all([interrupted(producing, fromStdin, 'produce'), interrupted(pipeline, fromFile, 'slow | produce --file /dev/stdin')]);
      expect(direct).toBe('130 ');
      expect(shell).toBe('0 sluice exit 130\n');
    } finally {
      clearInterval(feed);
    }
  });

  it('Ctrl-C to the whole process group: consume --group --follow commits what it printed, leaves and exits 0 (idle or busy)', async ({ expect }) => {
    const [idleTopic, busyTopic] = await Promise.all([createTopic(1), createTopic(1)]);
    const [idleGroup, busyGroup] = [uniqueName('g'), uniqueName('g')];
    const backlog = 20_000;
    const value = (i: number) => `record-${String(i).padStart(6, '0')}-${'x'.repeat(85)}`;
    for (let i = 0; i < backlog; i += 5000) await produceDirect(busyTopic, Array.from({ length: 5000 }, (_, j) => ({ value: value(i + j) })));
    const idle = start(['consume', idleTopic, '--group', idleGroup, '--follow', '--from-beginning'], { detached: true });
    const busy = start(['consume', busyTopic, '--group', busyGroup, '--follow', '--from-beginning'], { detached: true });
    await Promise.all([
      (async () => {
        // Waiting in its long poll when the "terminal" sends Ctrl-C.
        await expect.poll(async () => (await members(idleGroup))?.length ?? 0, { timeout: 20_000 }).toBe(1);
        await produceDirect(idleTopic, [{ value: 'one' }, { value: 'two' }, { value: 'three' }]);
        await expect.poll(() => idle.stdout(), { timeout: 20_000 }).toBe('one\ntwo\nthree\n');
        process.kill(-idle.child.pid!, 'SIGINT');
        expect(await within(idle, 15_000, 'idle consume --group after a process-group SIGINT')).toMatchObject({ code: 0, stderr: '' });
        expect(await committedOffsets(idleGroup)).toEqual([3]);
        expect(await members(idleGroup)).toEqual([]);
      })(),
      (async () => {
        // Still printing its backlog when the "terminal" sends Ctrl-C.
        await expect.poll(() => busy.stdout().length, { timeout: 20_000 }).toBeGreaterThan(0);
        process.kill(-busy.child.pid!, 'SIGINT');
        const run = await within(busy, 15_000, 'busy consume --group after a process-group SIGINT');
        expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
        const lines = run.stdout.split('\n').slice(0, -1);
        expect(lines).toEqual(Array.from({ length: lines.length }, (_, i) => value(i)));
        expect(await committedOffsets(busyGroup)).toEqual([lines.length]); // exactly what it printed
        expect(await members(busyGroup)).toEqual([]);
      })(),
    ]);
  });
});
