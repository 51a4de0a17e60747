/**
 * The real `sluice dev` process (bin/sluice.js → tsx → lib/cli/main.ts), as a user runs it:
 * healthy quickly, data kept across restarts, SIGTERM leaves no JVM behind, a SIGKILLed dev
 * server's JVM is stopped by the watchdog with SIGTERM first, instances with their own PORT +
 * SLUICE_DATA_DIR coexist, and a missing Java is explained. Also child-reaper.ts on its own,
 * with a child whose reaction to SIGTERM is visible.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { claimDataDir } from '../../lib/cli/commands/dev.ts';
import { REAP_GRACE_MS } from '../../lib/local/child-reaper.ts';
import { freePort } from '../../lib/local/dynamodb-local.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO, 'bin', 'sluice.js');
const HEALTHY_WITHIN_MS = 20_000;

interface DevProcess {
  readonly child: ChildProcess;
  readonly base: string;
  readonly output: () => string;
  /** Time from spawn to the first 200 from /healthz. */
  readonly healthyAfterMs: number;
  /** The DynamoDB Local JVM's pid, from the startup banner. */
  readonly javaPid: number;
}

const running = new Set<ChildProcess>();
const tempDirs: string[] = [];

afterEach(() => {
  // A failed test must not leave a dev server running (its JVM follows via the watchdog).
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});

afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dev-test-'));
  tempDirs.push(dir);
  return dir;
}

function spawnDev(env: NodeJS.ProcessEnv, cwd = REPO): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'dev'], {
    cwd,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => output, exited };
}

async function startDev(dataDir: string, cwd = REPO): Promise<DevProcess & { exited: Promise<number | null> }> {
  const port = await freePort();
  const startedAt = Date.now();
  const { child, output, exited } = spawnDev({ PORT: String(port), SLUICE_DATA_DIR: dataDir }, cwd);
  const base = `http://127.0.0.1:${port}`;
  let healthyAfterMs: number | undefined;
  while (healthyAfterMs === undefined) {
    if (child.exitCode !== null) throw new Error(`sluice dev exited with ${child.exitCode}:\n${output()}`);
    if (Date.now() - startedAt > HEALTHY_WITHIN_MS + 10_000) throw new Error(`sluice dev not healthy:\n${output()}`);
    const res = await fetch(`${base}/healthz`).catch(() => undefined);
    if (res?.status === 200) healthyAfterMs = Date.now() - startedAt;
    else await new Promise((r) => setTimeout(r, 50));
  }
  // The banner is printed right after the server starts listening.
  await expect.poll(() => /\(pid (\d+)\)/.exec(output())?.[1], { timeout: 5_000 }).toBeDefined();
  const javaPid = Number(/\(pid (\d+)\)/.exec(output())?.[1]);
  return { child, base, output, healthyAfterMs, javaPid, exited };
}

/**
 * Is `pid` a live DynamoDB Local JVM? On Linux the cmdline is checked, so a reused pid is not
 * mistaken for it; elsewhere we can only ask whether the pid exists.
 */
function isDynamoDbLocal(pid: number): boolean {
  if (!existsSync('/proc')) {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('DynamoDBLocal.jar');
  } catch {
    return false;
  }
}

/** Linux: pids of JVMs whose command line mentions `dataDir`. */
function javaProcessesUsing(dataDir: string): number[] {
  if (!existsSync('/proc')) return [];
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmdline.includes('DynamoDBLocal.jar') && cmdline.includes(dataDir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function stopDev(dev: DevProcess & { exited: Promise<number | null> }): Promise<number | null> {
  dev.child.kill('SIGTERM');
  return dev.exited;
}

describe('sluice dev', () => {
  it('is healthy quickly, keeps topics across restarts and leaves no JVM behind', async () => {
    const dataDir = await tempDataDir();
    const first = await startDev(dataDir);
    expect(first.healthyAfterMs).toBeLessThan(HEALTHY_WITHIN_MS);
    expect(isDynamoDbLocal(first.javaPid)).toBe(true);

    const created = await fetch(`${first.base}/v1/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'demo', partitions: 3 }),
    });
    expect(created.status).toBe(201);
    const { topicId } = (await created.json()) as { topicId: string };

    expect(await stopDev(first)).toBe(0);
    expect(first.output()).toContain('SIGTERM: stopping');
    expect(isDynamoDbLocal(first.javaPid)).toBe(false);
    expect(javaProcessesUsing(dataDir)).toEqual([]);

    const second = await startDev(dataDir);
    const res = await fetch(`${second.base}/v1/topics/demo`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: 'demo', topicId });
    // One JSON line per request (lib/api/request-log.ts), through the console logger.
    const requestLines = (out: string) =>
      out.split('\n').flatMap((l) => (l.startsWith('{') && l.includes('"msg":"request"') ? [JSON.parse(l) as Record<string, unknown>] : []));
    expect(requestLines(first.output())).toContainEqual({ level: 'info', msg: 'request', method: 'POST', path: '/v1/topics', status: 201, ms: expect.any(Number) });
    await expect.poll(() => requestLines(second.output())).toContainEqual({ level: 'info', msg: 'request', method: 'GET', path: '/v1/topics/demo', status: 200, ms: expect.any(Number), topic: 'demo' });
    expect(await stopDev(second)).toBe(0);
    expect(isDynamoDbLocal(second.javaPid)).toBe(false);
  });

  it('after a SIGKILL of the dev server, the watchdog stops the JVM with SIGTERM first and the data survives', async () => {
    const dataDir = await tempDataDir();
    // Without bin/sluice.js in between, so the SIGKILL hits the process that owns the JVM.
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'lib', 'cli', 'main.ts'), 'dev'], {
      cwd: REPO,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', PORT: String(port), SLUICE_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => (running.delete(child), resolve())));
    const base = `http://127.0.0.1:${port}`;
    await expect
      .poll(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status, { timeout: HEALTHY_WITHIN_MS + 10_000, interval: 100 })
      .toBe(200);
    await expect.poll(() => /\(pid (\d+)\)/.exec(output)?.[1], { timeout: 5_000 }).toBeDefined();
    const javaPid = Number(/\(pid (\d+)\)/.exec(output)?.[1]);
    expect(isDynamoDbLocal(javaPid)).toBe(true);

    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/v1/topics', { name: 'crash', partitions: 3 })).status).toBe(201);
    // Three partitions in one request: published by one TransactWriteItems.
    const produced = await post('/v1/topics/crash/records', {
      records: [0, 1, 2].map((partition) => ({ partition, value: { partition } })),
    });
    expect(produced.status).toBe(200);

    const killedAt = Date.now();
    child.kill('SIGKILL');
    await exited;
    await expect.poll(() => isDynamoDbLocal(javaPid), { timeout: REAP_GRACE_MS + 10_000, interval: 20 }).toBe(false);
    const goneAfterMs = Date.now() - killedAt;
    // The watchdog sends SIGKILL only after REAP_GRACE_MS: gone earlier means SIGTERM did it.
    expect(goneAfterMs).toBeLessThan(REAP_GRACE_MS);
    expect(javaProcessesUsing(dataDir)).toEqual([]);

    const second = await startDev(dataDir);
    const res = await fetch(`${second.base}/v1/topics/crash`);
    expect(res.status).toBe(200);
    const described = (await res.json()) as { partitions: { partition: number; highWatermark: number }[] };
    expect(described.partitions.map((p) => p.highWatermark)).toEqual([1, 1, 1]);
    expect(await stopDev(second)).toBe(0);
    expect(isDynamoDbLocal(second.javaPid)).toBe(false);
  });

  it('runs two instances side by side on their own PORT and SLUICE_DATA_DIR', async () => {
    const [a, b] = await Promise.all([tempDataDir().then(startDev), tempDataDir().then(startDev)]);
    expect(a.base).not.toBe(b.base);
    expect(a.javaPid).not.toBe(b.javaPid);
    for (const dev of [a, b]) {
      expect((await fetch(`${dev.base}/healthz`)).status).toBe(200);
    }
    expect(await Promise.all([stopDev(a), stopDev(b)])).toEqual([0, 0]);
    expect(isDynamoDbLocal(a.javaPid) || isDynamoDbLocal(b.javaPid)).toBe(false);
  });

  it('run from another directory, writes nothing into it: DynamoDB Local works in the data dir', async () => {
    const cwd = await tempDataDir();
    const dataDir = join(await tempDataDir(), 'data');
    const dev = await startDev(dataDir, cwd);
    expect(readdirSync(join(dataDir, 'dynamodb'))).toContain('dynamodb-local-metadata.json');
    expect(await stopDev(dev)).toBe(0);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('prints the package version for --version', async () => {
    const child = spawn(process.execPath, [BIN, '--version'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(code).toBe(0);
    expect(output.trim()).toBe(pkg.version);
  });

  it.each([
    ['SLUICE_JAVA_BIN points nowhere', { SLUICE_JAVA_BIN: '/nonexistent/bin/java' }],
    ['PATH has no java', { PATH: '/nonexistent', JAVA_HOME: '', SLUICE_JAVA_BIN: '' }],
  ])('exits non-zero with install instructions when %s', async (_, env) => {
    const dataDir = await tempDataDir();
    const port = await freePort();
    const { output, exited } = spawnDev({ ...env, PORT: String(port), SLUICE_DATA_DIR: dataDir });
    expect(await exited).toBe(1);
    expect(output()).toContain('sudo apt-get install -y openjdk-17-jre-headless');
    expect(output()).toContain('brew install openjdk@17');
  });
});

describe('sluice dev: maintenance', () => {
  /** A dev server on a fresh data dir with extra environment (the maintenance settings). */
  async function startDevWith(env: NodeJS.ProcessEnv) {
    const dataDir = await tempDataDir();
    const port = await freePort();
    const dev = spawnDev({ PORT: String(port), SLUICE_DATA_DIR: dataDir, ...env });
    const base = `http://127.0.0.1:${port}`;
    await expect
      .poll(async () => {
        if (dev.child.exitCode !== null) throw new Error(`sluice dev exited with ${dev.child.exitCode}:\n${dev.output()}`);
        return (await fetch(`${base}/healthz`).catch(() => undefined))?.status;
      }, { timeout: HEALTHY_WITHIN_MS, interval: 50 })
      .toBe(200);
    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    /** A one-partition topic with `requests` produce requests: as many segment objects. */
    const topicWithRequests = async (name: string, requests: number) => {
      expect((await post('/v1/topics', { name, partitions: 1 })).status).toBe(201);
      for (let r = 0; r < requests; r++) expect((await post(`/v1/topics/${name}/records`, { records: [{ value: { r } }] })).status).toBe(200);
    };
    const segments = async (name: string) =>
      ((await (await fetch(`${base}/v1/topics/${name}`)).json()) as { partitions: { segments: number }[] }).partitions[0]!.segments;
    return { ...dev, dataDir, topicWithRequests, segments };
  }

  it('merges on its timer (SLUICE_MAINTENANCE_INTERVAL_MS) without any manual call, and stops it on shutdown', async () => {
    const dev = await startDevWith({ SLUICE_MAINTENANCE_INTERVAL_MS: '200', SLUICE_MERGE_MIN_AGE_MS: '0' });
    await expect.poll(dev.output).toContain('maintenance     runs every 0.2 s');
    await dev.topicWithRequests('timer', 6);
    await expect.poll(() => dev.segments('timer'), { timeout: 5_000, interval: 100 }).toBeLessThan(6);
    await expect.poll(dev.output).toMatch(/^maintenance: merged [1-9]\d* runs? /m);
    dev.child.kill('SIGTERM');
    expect(await dev.exited).toBe(0);
    expect(dev.output()).not.toContain('maintenance run failed');
    expect(existsSync(join(dev.dataDir, 'sluice-owner.json'))).toBe(false);
  });

  it('with SLUICE_MAINTENANCE_INTERVAL_MS=0 nothing merges; `sluice maintenance run` uses the running server, and the data dir cannot be claimed twice', async () => {
    const dev = await startDevWith({ SLUICE_MAINTENANCE_INTERVAL_MS: '0', SLUICE_MERGE_MIN_AGE_MS: '0' });
    await expect.poll(dev.output).toContain('maintenance     off (SLUICE_MAINTENANCE_INTERVAL_MS=0)');
    await dev.topicWithRequests('manual', 6);
    await new Promise((r) => setTimeout(r, 500));
    expect(await dev.segments('manual')).toBe(6);

    const cli = spawn(process.execPath, [BIN, 'maintenance', 'run'], {
      cwd: REPO,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', SLUICE_DATA_DIR: dev.dataDir, SLUICE_MERGE_MIN_AGE_MS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(cli);
    let stdout = '';
    let stderr = '';
    cli.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    cli.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => cli.once('exit', (c) => (running.delete(cli), resolve(c))));
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.stringContaining(`using the emulators of sluice dev (pid `) });
    expect(stdout).toMatch(/^tick \d+: merged manual\/0 slots 0-5: 6 entries, /m);
    expect(stdout).toMatch(/^maintenance done .*: merged 1 run/m);
    expect(await dev.segments('manual')).toBe(1);

    // What a second `sluice dev` (or a `maintenance run` of its own) would do first.
    await expect(claimDataDir(dev.dataDir, 'sluice dev')).rejects.toThrow(`${dev.dataDir} is in use by sluice dev (pid `);

    dev.child.kill('SIGTERM');
    expect(await dev.exited).toBe(0);
  });
});

/** Linux: the process exists and is not a zombie; elsewhere: the pid exists. */
function processAlive(pid: number): boolean {
  if (existsSync('/proc')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(process.platform === 'win32')('child reaper', () => {
  const REAPER = join(REPO, 'lib', 'local', 'child-reaper.ts');
  const GRACE_MS = 400;

  /**
   * A parent (node) that registers one child with reapOnExit({graceMs}) and prints the child's
   * pid. The child writes "TERM" to `marker` on SIGTERM and exits, or, when `ignoreTerm`,
   * ignores SIGTERM. `parentExits`: the parent calls process.exit() without stopping the child.
   */
  async function spawnParent(marker: string, opts: { ignoreTerm?: boolean; parentExits?: boolean } = {}) {
    const childScript = opts.ignoreTerm
      ? `process.on('SIGTERM', () => require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'TERM ignored')); setInterval(() => {}, 1000);`
      : `process.on('SIGTERM', () => { require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'TERM'); process.exit(0); }); setInterval(() => {}, 1000);`;
    const parentScript = [
      `import { spawn } from 'node:child_process';`,
      `import { reapOnExit } from ${JSON.stringify(pathToFileURL(REAPER).href)};`,
      `const child = spawn(process.execPath, ['-e', ${JSON.stringify(childScript)}], { stdio: 'ignore' });`,
      `reapOnExit(child, { graceMs: ${GRACE_MS} });`,
      `setTimeout(() => { console.log('child ' + child.pid); ${opts.parentExits ? 'setTimeout(() => process.exit(0), 200);' : ''} }, 300);`,
      `setInterval(() => {}, 1000);`,
    ].join('\n');
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', parentScript], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(parent);
    let output = '';
    parent.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    parent.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => parent.once('exit', () => (running.delete(parent), resolve())));
    await expect.poll(() => /child (\d+)/.exec(output)?.[1], { timeout: 15_000 }).toBeDefined();
    const childPid = Number(/child (\d+)/.exec(output)?.[1]);
    return { parent, childPid, exited, output: () => output };
  }

  const markerText = (marker: string) => (existsSync(marker) ? readFileSync(marker, 'utf8') : undefined);

  it('a SIGKILLed parent: the watchdog sends SIGTERM, and the child stops cleanly', async () => {
    const marker = join(await tempDataDir(), 'marker');
    const { parent, childPid, exited } = await spawnParent(marker);
    expect(processAlive(childPid)).toBe(true);
    parent.kill('SIGKILL');
    await exited;
    await expect.poll(() => processAlive(childPid), { timeout: 10_000, interval: 20 }).toBe(false);
    expect(markerText(marker)).toBe('TERM');
  });

  it('a child that ignores SIGTERM is SIGKILLed after the grace period', async () => {
    const marker = join(await tempDataDir(), 'marker');
    const { parent, childPid, exited } = await spawnParent(marker, { ignoreTerm: true });
    const killedAt = Date.now();
    parent.kill('SIGKILL');
    await exited;
    await expect.poll(() => processAlive(childPid), { timeout: 10_000, interval: 20 }).toBe(false);
    expect(markerText(marker)).toBe('TERM ignored');
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(GRACE_MS);
  });

  it('a parent that exits without stopping its child: the child gets SIGTERM', async () => {
    const marker = join(await tempDataDir(), 'marker');
    const { childPid, exited } = await spawnParent(marker, { parentExits: true });
    await exited;
    await expect.poll(() => processAlive(childPid), { timeout: 10_000, interval: 20 }).toBe(false);
    expect(markerText(marker)).toBe('TERM');
  });
});
