/**
 * The examples of docs/DELIVERY-SEMANTICS.md run against a live HTTP server (the app served
 * by @hono/node-server on the emulator stack), so the documentation cannot rot.
 */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atLeastOnceConsume, atMostOnce, exactlyOnceTransform } from '../../examples/delivery.ts';
import { createApp } from '../../lib/api/app.ts';
import { uniqueName } from '../support/http.ts';
import { stackDeps } from '../support/stack.ts';

let server: ServerType;
let base: string;

beforeAll(async () => {
  const app = createApp(stackDeps());
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      base = `http://127.0.0.1:${info.port}`;
      resolve();
    });
  });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

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
