/**
 * The examples of docs/DELIVERY-SEMANTICS.md run against a live HTTP server (the app served
 * by @hono/node-server on the emulator stack), so the documentation cannot rot: the
 * TypeScript versions (examples/delivery.ts), and the page's shell blocks themselves, run in
 * order by bash with curl, as a reader would paste them.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atLeastOnceConsume, atMostOnce, exactlyOnceTransform } from '../../examples/delivery.ts';
import { createApp } from '../../lib/api/app.ts';
import { uniqueName } from '../support/http.ts';
import { serveApp, type ServedApp } from '../support/http-server.ts';
import { stackDeps } from '../support/stack.ts';

let served: ServedApp;
let base: string;

beforeAll(async () => {
  const app = createApp(stackDeps());
  served = await serveApp(app);
  base = served.base;
});
afterAll(() => served.close());

async function createTopic(name: string) {
  const res = await fetch(`${base}/v1/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, partitions: 1 }) });
  expect(res.status).toBe(201);
}

async function values(topic: string): Promise<unknown[]> {
  const res = await fetch(`${base}/v1/topics/${topic}/partitions/0/records?offset=0&maxRecords=1000`);
  return ((await res.json()) as { records: { value: unknown }[] }).records.map((r) => r.value);
}

describe('delivery semantics examples', () => {
  it('at-most-once sends once; at-least-once processes then commits; exactly-once transforms once', async () => {
    const input = uniqueName('ex-in');
    const output = uniqueName('ex-out');
    await createTopic(input);
    await createTopic(output);
    expect(await atMostOnce(base, input, [1, 2, 3])).toBe(true);
    expect(await atMostOnce(base, uniqueName('missing'), [1])).toBe(false);

    const seen: unknown[] = [];
    expect(await atLeastOnceConsume(base, uniqueName('g'), input, async (v) => void seen.push(v))).toBe(3);
    expect(seen).toEqual([1, 2, 3]);

    const opts = { group: uniqueName('g'), input, output, transactionalId: uniqueName('t'), transform: (v: unknown) => ({ doubled: (v as number) * 2 }) };
    expect(await exactlyOnceTransform(base, opts)).toBe(3);
    // A restart finds everything committed and produces nothing twice.
    expect(await exactlyOnceTransform(base, opts)).toBe(0);
    expect(await values(output)).toEqual([{ doubled: 2 }, { doubled: 4 }, { doubled: 6 }]);
  });
});

/** The ```sh blocks of a markdown page, in order. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

function bash(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const curlAvailable = (await bash('command -v curl')).code === 0;

describe('the shell examples of DELIVERY-SEMANTICS.md', () => {
  it.skipIf(!curlAvailable)('run as written, in order, on a fresh server: every request succeeds and the retry writes nothing', async () => {
    const page = readFileSync(new URL('../../docs/DELIVERY-SEMANTICS.md', import.meta.url), 'utf8');
    const blocks = shellBlocks(page);
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    // The page's names, made unique to this run (the stack is shared with other test files).
    const suffix = uniqueName(''); // '-' and a random id
    const names = ['billing-1', 'billing', 'clicks', 'orders', 'invoices', 'audit'];
    const rename = new RegExp(`\\b(${names.join('|')})\\b`, 'g');
    const script = blocks
      .join('\n')
      .replaceAll('localhost:8080', base.replace('http://', ''))
      .replace(rename, (name) => `${name}${suffix}`);
    // Exactly the page's commands; only curl is made to fail on an HTTP error (so a refused
    // request fails the test instead of printing an error body) and to end each answer with
    // a newline (one answer per line).
    const run = await bash(`set -euo pipefail\ncurl() { command curl --fail-with-body -w '\\n' "$@"; }\n${script}`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stderr).toBe('');

    const answers = run.stdout.trim().split('\n');
    // The exactly-once produce and its retry: the same offsets both times.
    const [first, retry] = answers.slice(-2).map((line) => JSON.parse(line));
    expect(first).toEqual({ offsets: [{ partition: 0, offset: 0 }] });
    expect(retry).toEqual(first);

    const get = async (path: string) => (await fetch(`${base}${path}`)).json() as Promise<any>;
    expect(await values(`invoices${suffix}`)).toEqual([{ invoiceFor: 1 }]);
    expect(await values(`clicks${suffix}`)).toEqual([{ page: '/home' }]);
    expect((await get(`/v1/groups/billing${suffix}/offsets`)).offsets).toMatchObject([{ topic: `orders${suffix}`, partition: 0, offset: 1 }]);
    expect((await get(`/v1/groups/audit${suffix}/offsets`)).offsets).toMatchObject([{ topic: `clicks${suffix}`, partition: 0, offset: 1 }]);
  });
});
