/**
 * The Durable Streams protocol's own server conformance suite
 * (@durable-streams/server-conformance-tests, pinned in package.json) against Sluice's `/ds`
 * surface: the app served over real HTTP as `sluice dev` serves it, on the emulator stack.
 * docs/STREAMING.md lists what it covers and any group Sluice does not pass.
 */
import { runConformanceTests } from '@durable-streams/server-conformance-tests';
import { afterAll, beforeAll, describe } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { isolatedStack } from '../support/faults.ts';
import { serveApp, type ServedApp } from '../support/http-server.ts';

const config = { baseUrl: '', longPollTimeoutMs: 5_000 };
let http: ServedApp | undefined;
let dispose: (() => void) | undefined;

beforeAll(async () => {
  const s = isolatedStack({ slotTimeoutMs: 1500, dsLongPollMs: 4_000 });
  dispose = s.dispose;
  http = await serveApp(createApp(s.deps, s.services));
  config.baseUrl = `${http.base}/ds`;
});

afterAll(async () => {
  await http?.close();
  dispose?.();
});

describe('Durable Streams conformance (/ds)', () => {
  runConformanceTests(config);
});
