/**
 * The `sluice` client commands as a user runs them: the real bin/sluice.js (→ tsx →
 * lib/cli/main.ts) as a child process, stdin piped, stdout and stderr captured, against the
 * app served over HTTP on the shared stack (SLUICE_URL). Covers every client command, --json
 * output, -K keys in Kafka's partition, consume's start options and -c, a group's commits in
 * `groups describe`, reset-offsets with and without --dry-run, SIGINT, the token flag, and the
 * exit codes: 1 with one line for a failed operation, 2 with one line for a usage error.
 *
 * Each child costs about a second of tsx start-up, so the tests run concurrently (each on its
 * own topics and groups) and set up their data through the REST API where the CLI is not what
 * they test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
  for (const child of running) child.kill('SIGKILL');
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
  readonly done: Promise<Run>;
}

/** The environment of the shell running the tests must not leak into what the CLI connects to. */
function cliEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { SLUICE_TOKEN: _t, SLUICE_URL: _u, AWS_REGION: _r, AWS_DEFAULT_REGION: _d, ...env } = process.env;
  return { ...env, SLUICE_URL: served.base, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra };
}

function start(args: readonly string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Started {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: cliEnv(opts.env ?? {}), stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdin!.on('error', () => {}); // a command that exits before reading stdin
  child.stdin!.end(opts.stdin ?? '');
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, done };
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

async function createTopic(partitions: number): Promise<string> {
  const name = uniqueName('cli');
  expect((await call(app, 'POST', '/v1/topics', { name, partitions })).status).toBe(201);
  return name;
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

describe.concurrent('sluice client commands (bin/sluice.js against a served app)', () => {
  it('cluster: text and --json', async () => {
    const [text, info] = await Promise.all([ok(['cluster']), json(['cluster'])]);
    expect(text).toMatch(new RegExp(`^version  ${SLUICE_VERSION.replace(/\./g, '\\.')}\nbackend  local\nlimits:\n  maxRequestBytes +\\d+`));
    expect(info).toMatchObject({ version: SLUICE_VERSION, backend: 'local', limits: { maxPartitionsPerRequest: expect.any(Number) } });
  });

  it('topics create, list, describe, alter (set and reset config), delete', async () => {
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

  it('produce -K puts each key in its Kafka partition (murmur2), as describe and consume show', async () => {
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

  it('produce: summary on stderr, empty lines skipped, headers and --partition; consume --json has the API fields', async () => {
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

  it('produce --encoding json: values as JSON; a bad line fails with its number (stdin: what came before is sent; --file: nothing is)', async () => {
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

  it('consume: -c, --offset (also from the end), --timestamp, --partition; default: from the end, exits at once', async () => {
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

  it('consume --group commits what it printed: groups describe shows it, then reset-offsets --dry-run changes nothing and a reset does', async () => {
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

  it("consume --group -c commits exactly what it printed; groups describe shows '-' where nothing is committed", async () => {
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

  it('consume --follow --group: prints records as they arrive; SIGINT commits, leaves and exits 0', async () => {
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

  it('usage errors: one line, exit code 2, nothing on stdout', async () => {
    const topic = await createTopic(1);
    // commander's own errors are covered in process (test/unit/cli); these go through the real binary.
    const cases: [string[], RegExp][] = [
      [['topics', 'create', 'x', '--bogus'], /unknown option '--bogus'/],
      [['topics', 'create'], /missing required argument 'name'/],
      [['topics', 'create', 'x', '--partitions', 'many'], /'--partitions <n>' argument 'many' is invalid/],
      [['consume', topic, '--from-beginning', '--offset', '3'], /--from-beginning and --offset cannot be used together/],
      [['groups', 'reset-offsets', 'g', '--topic', topic, '--to-earliest', '--to-latest'], /only one of/],
      [['topcs'], /unknown command 'topcs'/],
    ];
    const runs = await Promise.all(cases.map(([args]) => sluice(args)));
    runs.forEach((run, i) => {
      const [args, pattern] = cases[i]!;
      expect({ args, code: run.code, stdout: run.stdout, lines: run.stderr.trimEnd().split('\n').length }).toEqual({ args, code: 2, stdout: '', lines: 1 });
      expect(run.stderr, args.join(' ')).toMatch(/^sluice: usage: /);
      expect(run.stderr, args.join(' ')).toMatch(pattern);
    });
  });

  it('failed operations: one line, exit code 1 (unknown topic or group, unreachable URL, missing token); SLUICE_TOKEN authenticates', async () => {
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
});
