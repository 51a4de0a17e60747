/**
 * `sluice maintenance run` in process (lib/cli/commands/maintenance.ts): runMaintenanceCommand
 * on an own stack (own tables and bucket, a movable clock; own-stack.ts) with its output
 * captured, and the command's local backend on a stopped data dir (its own emulators on it).
 * The CLI against a running `sluice dev`, and its timer end to end, are in
 * dev-server.int.test.ts; the timer's rules (one run at a time, errors logged, bounded stop) here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { maintenanceRunCli, runMaintenanceCommand } from '../../lib/cli/commands/maintenance.ts';
import { DATA_DIR_OWNER_FILE, startMaintenanceTimer } from '../../lib/cli/commands/dev.ts';
import { MAINTENANCE_DEFAULTS } from '../../lib/config.ts';
import { depsFor } from '../../lib/env.ts';
import { DEFAULT_PREFIX, startLocalStack } from '../../lib/local/local-stack.ts';
import { call, uniqueName } from '../support/http.ts';
import { memoryLogger, quietLogger } from '../support/logger.ts';
import { ownStacks, type OwnStack } from '../support/own-stack.ts';

/** Own stacks, disposed after each test. */
const stack = ownStacks();
const tempDirs: string[] = [];
afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** No minimum age: everything produced is due at once. */
const FAST = { mergeMinAgeMs: 0 };

type Target = Pick<OwnStack, 'app'>;

async function topicWithRequests(s: Target, requests: number, partitions = 1): Promise<string> {
  const name = uniqueName('cli');
  expect((await call(s.app, 'POST', '/v1/topics', { name, partitions })).status).toBe(201);
  for (let r = 0; r < requests; r++) {
    const records = Array.from({ length: partitions }, (_, p) => ({ partition: p, value: { r, pad: 'x'.repeat(100) } }));
    expect((await call(s.app, 'POST', `/v1/topics/${name}/records`, { records })).status).toBe(200);
  }
  return name;
}

async function segments(s: Target, name: string): Promise<number[]> {
  const res = await call(s.app, 'GET', `/v1/topics/${name}`);
  expect(res.status).toBe(200);
  return (res.body.partitions as { segments: number }[]).map((p) => p.segments);
}

function capture(): { lines: string[]; print: (line: string) => void } {
  const lines: string[] = [];
  return { lines, print: (line) => void lines.push(line) };
}

describe('sluice maintenance run (in process)', () => {
  it('--dry-run prints the planned merge and changes nothing', async () => {
    const s = await stack();
    const name = await topicWithRequests(s, 12);
    const objects = (await s.objects()).length;
    expect(await segments(s, name)).toEqual([12]);

    const out = capture();
    const result = await runMaintenanceCommand({ dryRun: true, settings: FAST }, s.deps, out.print);
    expect(out.lines).toContainEqual(expect.stringMatching(new RegExp(`^tick 1: would merge ${name}/0 slots 0-11 \\(\\d+(\\.\\d)? (B|KiB)\\)$`)));
    expect(out.lines.at(-1)).toMatch(/^dry run, nothing written \(.*\): would merge 1 run /);
    expect(result).toMatchObject({ dryRun: true, merges: 0, plannedMerges: 1, objectsDeleted: 0 });

    expect((await s.objects()).length).toBe(objects);
    expect(await segments(s, name)).toEqual([12]);
  });

  it('merges, prints one line per merge and a summary; past the grace a dry run lists the objects to delete, a run deletes them', async () => {
    const s = await stack();
    const name = await topicWithRequests(s, 12);

    const out = capture();
    const result = await runMaintenanceCommand({ settings: FAST }, s.deps, out.print);
    expect(result).toMatchObject({ dryRun: false, merges: 1, entriesMerged: 12, more: false });
    expect(out.lines).toContainEqual(expect.stringMatching(new RegExp(`^tick \\d+: merged ${name}/0 slots 0-11: 12 entries, .* from 12 objects into seg/\\S+\\.seg$`)));
    expect(out.lines.at(-1)).toMatch(/^maintenance done \(\d+ ticks?, \d+ partitions? checked\): merged 1 run \(12 entries, /);
    expect(await segments(s, name)).toEqual([1]);
    expect(await s.objects()).toHaveLength(13); // the replaced ones wait for the grace

    s.clock.advance(MAINTENANCE_DEFAULTS.gcGraceMs + 1);
    const dry = capture();
    expect(await runMaintenanceCommand({ dryRun: true, settings: FAST }, s.deps, dry.print)).toMatchObject({ objectsDeleted: 12 });
    expect(dry.lines).toContainEqual(expect.stringMatching(/^tick \d+: would delete 12 unreferenced objects \(.*\):$/));
    expect(dry.lines.filter((l) => /^ {2}seg\/\S+\.seg$/.test(l))).toHaveLength(12);
    expect(await s.objects()).toHaveLength(13);

    const real = capture();
    expect(await runMaintenanceCommand({ settings: FAST }, s.deps, real.print)).toMatchObject({ objectsDeleted: 12 });
    expect(real.lines).toContainEqual(expect.stringMatching(/^tick \d+: deleted 12 unreferenced objects \(.*\)$/));
    expect(await s.objects()).toHaveLength(1);
  });

  it('--topic restricts the run to one topic; --json prints only the summary', async () => {
    const s = await stack();
    const [a, b] = [await topicWithRequests(s, 6, 2), await topicWithRequests(s, 6)];

    const out = capture();
    await runMaintenanceCommand({ topic: a, json: true, settings: FAST }, s.deps, out.print);
    expect(out.lines).toHaveLength(1);
    expect(JSON.parse(out.lines[0]!)).toMatchObject({ dryRun: false, merges: 2, entriesMerged: 12, objectsDeleted: 0, more: false });
    expect(await segments(s, a)).toEqual([1, 1]);
    expect(await segments(s, b)).toEqual([6]);

    const text = capture();
    await runMaintenanceCommand({ topic: b, settings: FAST }, s.deps, text.print);
    const merged = text.lines.filter((l) => /^tick \d+: merged /.test(l));
    expect(merged).toHaveLength(1);
    expect(merged[0]).toContain(` merged ${b}/0 `);
    expect(await segments(s, b)).toEqual([1]);
  });

  it('finishes a topic deletion and says so; an unknown --topic is an error', async () => {
    const s = await stack();
    const name = await topicWithRequests(s, 3);
    expect((await call(s.app, 'DELETE', `/v1/topics/${name}`)).status).toBeLessThan(300);

    const dry = capture();
    await runMaintenanceCommand({ topic: name, dryRun: true }, s.deps, dry.print);
    expect(dry.lines).toContainEqual(expect.stringMatching(new RegExp(`^tick 1: topic deletion ${name} \\(.+\\): would delete [1-9]\\d* log items?, 0 committed offsets; `)));

    s.clock.advance(MAINTENANCE_DEFAULTS.gcGraceMs + 1);
    const real = capture();
    const result = await runMaintenanceCommand({ topic: name }, s.deps, real.print);
    expect(result.topicsFinished).toBe(1);
    expect(real.lines).toContainEqual(expect.stringMatching(new RegExp(`^tick \\d+: topic deletion ${name} \\(.+\\): deleted .*; finished$`)));

    await expect(runMaintenanceCommand({ topic: name }, s.deps, () => undefined)).rejects.toThrow(`no topic named '${name}'`);
  });

  it('--backend local on a stopped data dir: starts its own emulators on it, merges, stops them and releases the dir', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sluice-mnt-cli-'));
    tempDirs.push(dataDir);
    const local = await startLocalStack({ dataDir, prefix: DEFAULT_PREFIX });
    const name = await topicWithRequests({ app: createApp({ ...depsFor('local', {}, { clients: local.clients, names: local.names }), logger: quietLogger }) }, 5);
    await local.stop();

    const out = capture();
    const notes = capture();
    expect(await maintenanceRunCli({ dataDir }, { SLUICE_MERGE_MIN_AGE_MS: '0' }, out.print, notes.print)).toBe(0);
    expect(notes.lines).toEqual([expect.stringContaining('no sluice dev runs on')]);
    const merged = new RegExp(`^tick \\d+: merged ${name}/0 slots 0-4: 5 entries, .* into (seg/\\S+)$`);
    const line = out.lines.find((l) => merged.test(l));
    expect(line).toBeDefined();
    expect(out.lines.at(-1)).toMatch(/^maintenance done .*: merged 1 run/);
    // The merged object is in the data dir (s3rver's files), and the dir is free again.
    const key = merged.exec(line!)![1]!;
    expect(existsSync(join(dataDir, 's3', local.names.bucket, `${key}._S3rver_object`))).toBe(true);
    expect(existsSync(join(dataDir, DATA_DIR_OWNER_FILE))).toBe(false);
  });
});

describe("the dev server's maintenance timer", () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('runs one run at a time, logs a failure as one JSON line and goes on; stop waits for the run in progress, bounded', async () => {
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    let release: (() => void) | undefined;
    const maintenance = {
      runUntilIdle: async (_scope: unknown, opts: { until?: () => boolean } = {}) => {
        calls++;
        active++;
        maxActive = Math.max(maxActive, active);
        try {
          if (calls === 1) throw new Error('emulator gone');
          if (calls === 3) await new Promise<void>((r) => (release = r)); // a long run
          expect(opts.until?.()).toBe(false);
          return [];
        } finally {
          active--;
        }
      },
    };
    const logger = memoryLogger();
    const printed: string[] = [];
    const timer = startMaintenanceTimer(maintenance, 20, logger, (l) => printed.push(l));
    await expect.poll(() => calls, { timeout: 2_000, interval: 5 }).toBe(3);
    await sleep(60); // the long run holds the timer: no fourth call
    expect(calls).toBe(3);
    expect(maxActive).toBe(1);
    expect(logger.lines).toHaveLength(1);
    expect(JSON.parse(logger.lines[0]!)).toMatchObject({ level: 'error', msg: 'maintenance run failed', err: 'Error: emulator gone' });
    expect(printed).toEqual([]); // runs that changed nothing print nothing

    const startedStop = Date.now();
    await timer.stop(100); // the run never ends by itself: stop gives up after the bound
    expect(Date.now() - startedStop).toBeGreaterThanOrEqual(90);
    release!();
    await sleep(60);
    expect(calls).toBe(3); // cleared: no run after stop
  });

  it('interval 0 never runs', async () => {
    let calls = 0;
    const timer = startMaintenanceTimer({ runUntilIdle: async () => (calls++, []) }, 0, memoryLogger());
    await sleep(50);
    await timer.stop(10);
    expect(calls).toBe(0);
  });
});
