/**
 * Bad input is refused with its API.md code, before any storage call, and changes nothing:
 *  1. names and ids beyond their limits (a 3,000-character topic would exceed DynamoDB's
 *     2,048-byte key limit and used to answer 500),
 *  2. JSON nested deeper than a record value may be (JSON.stringify used to overflow the stack),
 *  3. unprintable ids and path segments that do not percent-decode to UTF-8,
 *  4. an oversize body sent with `Connection: close` to the node server `sluice dev` runs.
 * Each case first snapshots a topic with records and a group with committed offsets, then
 * counts every SDK call the bad request makes, then compares the snapshot.
 */
import { serve, type ServerType } from '@hono/node-server';
import { randomUUID } from 'node:crypto';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lingerBeforeClose, type LingerLimits } from '../../lib/local/lingering-close.ts';
import { LIMITS } from '../../lib/limits.ts';
import { countCalls, isolatedStack, type CallCounter, type IsolatedStack } from '../support/faults.ts';
import { call, type JsonResponse } from '../support/http.ts';

const PREFIX = `bad-${randomUUID().slice(0, 8)}`;
const TOPIC = `${PREFIX}-t`;
const GROUP = `${PREFIX}-g`;
const LONG = 'x'.repeat(3000);
const WRITES = ['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand'];

let stack: IsolatedStack;
let dynamo: CallCounter;
let s3: CallCounter;

const api = <T = any>(method: string, path: string, body?: unknown): Promise<JsonResponse<T>> =>
  call<T>(stack.app, method, path, body);

async function ok<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await api<T>(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Everything a bad request could have touched, as the API shows it. */
async function snapshot() {
  const [topics, describeTopic, p0, p1, groups, describeGroup, offsets] = await Promise.all([
    ok('GET', '/v1/topics'),
    ok('GET', `/v1/topics/${TOPIC}`),
    ok('GET', `/v1/topics/${TOPIC}/partitions/0/records?offset=earliest`),
    ok('GET', `/v1/topics/${TOPIC}/partitions/1/records?offset=earliest`),
    ok('GET', '/v1/groups'),
    ok('GET', `/v1/groups/${GROUP}`),
    ok('GET', `/v1/groups/${GROUP}/offsets`),
  ]);
  return {
    // Other files share the stack: only what this file made is compared.
    topics: topics.topics.filter((t: { name: string }) => t.name.startsWith(PREFIX)),
    describeTopic,
    records: [p0, p1],
    groups: groups.groups.filter((g: { group: string }) => g.group.startsWith(PREFIX)),
    describeGroup,
    offsets,
  };
}

interface Refusal {
  readonly status: number;
  readonly code: string;
  /** 'none': no SDK call at all. 'no-writes': reads allowed (the topic's limits decide the code). */
  readonly storage?: 'none' | 'no-writes';
}

async function expectRefusedUntouched(send: () => Promise<JsonResponse>, want: Refusal): Promise<JsonResponse> {
  const before = await snapshot();
  dynamo.reset();
  s3.reset();
  const res = await send();
  const dynamoCalls = dynamo.calls().map((c) => c.commandName);
  const s3Calls = s3.calls().map((c) => c.commandName);
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: want.status, code: want.code });
  if ((want.storage ?? 'none') === 'none') {
    expect({ dynamoCalls, s3Calls }).toEqual({ dynamoCalls: [], s3Calls: [] });
  } else {
    expect({ writes: dynamoCalls.filter((c) => WRITES.includes(c)), s3Calls }).toEqual({ writes: [], s3Calls: [] });
  }
  expect(await snapshot()).toEqual(before);
  return res;
}

beforeAll(async () => {
  stack = isolatedStack();
  dynamo = countCalls(stack.deps.clients.dynamo);
  s3 = countCalls(stack.deps.clients.s3);
  await ok('POST', '/v1/topics', { name: TOPIC, partitions: 2 });
  await ok('POST', `/v1/topics/${TOPIC}/records`, {
    records: [
      { key: 'a', value: { n: 1 }, partition: 0 },
      { key: 'b', value: 'two', partition: 1 },
      { value: [1, [2]], partition: 0 },
    ],
  });
  // A group item with no live members, then an admin commit into it.
  const joined = await ok('POST', `/v1/groups/${GROUP}/heartbeat`, { memberId: null, memberEpoch: 0, topics: [TOPIC] });
  await ok('POST', `/v1/groups/${GROUP}/heartbeat`, { memberId: joined.memberId, memberEpoch: -1 });
  await ok('POST', `/v1/groups/${GROUP}/offsets`, {
    offsets: [
      { topic: TOPIC, partition: 0, offset: 2, metadata: 'm' },
      { topic: TOPIC, partition: 1, offset: 1 },
    ],
  });
});

afterAll(() => {
  dynamo.remove();
  s3.remove();
  stack.dispose();
});

const record = { records: [{ value: 1 }] };
const commitTo = (topic: string) => ({ offsets: [{ topic, partition: 0, offset: 1 }] });
const UNKNOWN_TOPIC = { status: 404, code: 'UNKNOWN_TOPIC_OR_PARTITION' } as const;
const INVALID_TOPIC = { status: 400, code: 'INVALID_TOPIC_EXCEPTION' } as const;
const INVALID_REQUEST = { status: 400, code: 'INVALID_REQUEST' } as const;

describe('names and ids beyond their limits', () => {
  const cases: [string, string, string, unknown, Refusal][] = [
    ['describe a 3,000-character topic', 'GET', `/v1/topics/${LONG}`, undefined, UNKNOWN_TOPIC],
    ['PATCH it', 'PATCH', `/v1/topics/${LONG}`, { config: { 'retention.ms': 1000 } }, UNKNOWN_TOPIC],
    ['DELETE it', 'DELETE', `/v1/topics/${LONG}`, undefined, UNKNOWN_TOPIC],
    ['produce to it', 'POST', `/v1/topics/${LONG}/records`, record, UNKNOWN_TOPIC],
    ['fetch from it', 'GET', `/v1/topics/${LONG}/partitions/0/records`, undefined, UNKNOWN_TOPIC],
    ['look up its offsets', 'GET', `/v1/topics/${LONG}/partitions/0/offsets?at=123`, undefined, UNKNOWN_TOPIC],
    ['create it', 'POST', '/v1/topics', { name: LONG }, INVALID_TOPIC],
    ['name it in a multi-fetch', 'POST', '/v1/fetch', { partitions: [{ topic: TOPIC, partition: 0, offset: 0 }, { topic: LONG, partition: 0, offset: 0 }] }, INVALID_TOPIC],
    ['commit an offset of it', 'POST', `/v1/groups/${GROUP}/offsets`, commitTo(LONG), UNKNOWN_TOPIC],
    ['reset a group to it', 'POST', `/v1/groups/${GROUP}/offsets/reset`, { topic: LONG, to: 'earliest' }, UNKNOWN_TOPIC],
    ['commit it with a produce', 'POST', `/v1/topics/${TOPIC}/records`, { ...record, commitOffsets: { group: GROUP, ...commitTo(LONG) } }, UNKNOWN_TOPIC],
    ['subscribe to it', 'POST', `/v1/groups/${GROUP}/heartbeat`, { memberId: null, memberEpoch: 0, topics: [TOPIC, LONG] }, INVALID_TOPIC],
    ['report owning it', 'POST', `/v1/groups/${GROUP}/heartbeat`, { memberId: 'm', memberEpoch: 1, ownedPartitions: [{ topic: LONG, partitions: [0] }] }, INVALID_TOPIC],
    ['produce with a 500-character producer.id', 'POST', `/v1/topics/${TOPIC}/records`, { ...record, producer: { id: 'p'.repeat(500), epoch: 0, sequence: 0 } }, INVALID_REQUEST],
    ['produce committing for a 3,000-character group', 'POST', `/v1/topics/${TOPIC}/records`, { ...record, commitOffsets: { group: LONG, ...commitTo(TOPIC) } }, INVALID_REQUEST],
    ['produce committing for a 256-character memberId', 'POST', `/v1/topics/${TOPIC}/records`, { ...record, commitOffsets: { group: GROUP, memberId: 'm'.repeat(256), memberEpoch: 1, ...commitTo(TOPIC) } }, INVALID_REQUEST],
    ['describe a 3,000-character group', 'GET', `/v1/groups/${LONG}`, undefined, INVALID_REQUEST],
    ['commit into a 256-character group', 'POST', `/v1/groups/${'g'.repeat(256)}/offsets`, commitTo(TOPIC), INVALID_REQUEST],
    ['join with a 256-character memberId', 'POST', `/v1/groups/${GROUP}/heartbeat`, { memberId: 'm'.repeat(256), memberEpoch: 0, topics: [TOPIC] }, INVALID_REQUEST],
    ['commit as a 256-character memberId', 'POST', `/v1/groups/${GROUP}/offsets`, { memberId: 'm'.repeat(256), memberEpoch: 1, ...commitTo(TOPIC) }, INVALID_REQUEST],
    ['init a 3,000-character transactionalId', 'POST', '/v1/producers', { transactionalId: LONG }, INVALID_REQUEST],
  ];

  it.each(cases)('%s → 4xx, no storage call, nothing changed', async (_what, method, path, body, want) => {
    await expectRefusedUntouched(() => api(method, path, body), want);
  });
});

describe('JSON nested deeper than a record value may be', () => {
  /** `[[[…1…]]]`, built in a loop: too deep for a recursive literal or JSON.stringify. */
  const deepText = (depth: number, leaf = '1') => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
  const produce = (recordsJson: string) => () => api('POST', `/v1/topics/${TOPIC}/records`, `{"records":[${recordsJson}]}`);

  it('refuses an 8,000-level record value with INVALID_RECORD, writing nothing', async () => {
    const res = await expectRefusedUntouched(produce(`{"value":${deepText(8000)}}`), {
      status: 400,
      code: 'INVALID_RECORD',
      storage: 'no-writes',
    });
    expect(res.body.error).toMatchObject({ maxJsonDepth: 1000, message: expect.stringMatching(/^records\[0\]\.value nests/) });
  });

  it('still answers a partition out of range with its own code', async () => {
    await expectRefusedUntouched(produce(`{"value":1},{"value":${deepText(8000)},"partition":7}`), {
      ...UNKNOWN_TOPIC,
      storage: 'no-writes',
    });
  });

  it('still answers a record over max.message.bytes with its own code and index', async () => {
    const leaf = JSON.stringify('y'.repeat(1024 * 1024));
    const res = await expectRefusedUntouched(produce(`{"value":1},{"value":${deepText(8000, leaf)}}`), {
      status: 413,
      code: 'RECORD_TOO_LARGE',
      storage: 'no-writes',
    });
    expect(res.body.error.index).toBe(1);
  });

  it.each([
    ['a produce body holding 100,000 levels', 'POST', `/v1/topics/${TOPIC}/records`, `{"records":[{"value":${deepText(100_000)}}]}`, { status: 400, code: 'INVALID_RECORD', storage: 'no-writes' }],
    ['a create body that is 100,000 levels of arrays', 'POST', '/v1/topics', deepText(100_000), INVALID_REQUEST],
    ['100,000 unclosed [', 'POST', `/v1/groups/${GROUP}/offsets`, '['.repeat(100_000), INVALID_REQUEST],
    ['100,000 levels where a topic list belongs', 'POST', `/v1/groups/${GROUP}/heartbeat`, `{"memberId":null,"memberEpoch":0,"topics":${deepText(100_000)}}`, INVALID_REQUEST],
  ] as [string, string, string, string, Refusal][])('parses %s without crashing or a 500', async (_what, method, path, body, want) => {
    await expectRefusedUntouched(() => api(method, path, body), want);
  });

  it('stores a value exactly 1000 levels deep and fetches it back', async () => {
    const topic = `${PREFIX}-deep`;
    await ok('POST', '/v1/topics', { name: topic });
    await ok('POST', `/v1/topics/${topic}/records`, `{"records":[{"value":${deepText(1000)}}]}`);
    const fetched = await ok('GET', `/v1/topics/${topic}/partitions/0/records`);
    let value = fetched.records[0].value;
    let depth = 0;
    for (; Array.isArray(value); depth++) value = value[0];
    expect({ depth, leaf: value }).toEqual({ depth: 1000, leaf: 1 });
  });
});

describe('unprintable ids and paths that are not UTF-8', () => {
  const join = { memberId: null, memberEpoch: 0, topics: [TOPIC] };
  const cases: [string, string, string, unknown][] = [
    ['a group id with DEL (U+007F)', 'POST', `/v1/groups/${encodeURIComponent(`${PREFIX}\u007f`)}/heartbeat`, join],
    ['a group id with a C1 control (U+0085)', 'POST', `/v1/groups/${encodeURIComponent(`${PREFIX}\u0085`)}/heartbeat`, join],
    ['a group id with U+009F', 'GET', `/v1/groups/${encodeURIComponent(`${PREFIX}\u009f`)}/offsets`, undefined],
    ['a produce committing for a group with DEL', 'POST', `/v1/topics/${TOPIC}/records`, { ...record, commitOffsets: { group: `${GROUP}\u007f`, ...commitTo(TOPIC) } }],
    ['a group segment %FF', 'POST', '/v1/groups/%FF/heartbeat', join],
    ['a group segment %C3 (a truncated sequence)', 'DELETE', '/v1/groups/%C3', undefined],
    ['an encoded lone surrogate in a group segment', 'GET', '/v1/groups/%ED%A0%80', undefined],
    ['a topic segment %FF on describe', 'GET', '/v1/topics/%FF', undefined],
    ['a topic segment %FF on produce', 'POST', '/v1/topics/%FF/records', record],
    ['a partition segment %FF', 'GET', `/v1/topics/${TOPIC}/partitions/%FF/records`, undefined],
    ['a transactionalId with a lone surrogate', 'POST', '/v1/producers', { transactionalId: `${PREFIX}\ud800` }],
    ['a producer.id with a lone surrogate', 'POST', `/v1/topics/${TOPIC}/records`, { ...record, producer: { id: 'p-\udc00', epoch: 0, sequence: 0 } }],
    ['a memberId with a lone surrogate', 'POST', `/v1/groups/${GROUP}/heartbeat`, { ...join, memberId: 'm\ud83d' }],
  ];

  it.each(cases)('refuses %s with INVALID_REQUEST, no storage call, nothing changed', async (_what, method, path, body) => {
    await expectRefusedUntouched(() => api(method, path, body), INVALID_REQUEST);
  });

  it('creates no group named "%FF"', async () => {
    await expectRefusedUntouched(() => api('POST', '/v1/groups/%FF/heartbeat', join), INVALID_REQUEST);
    const res = await api('GET', '/v1/groups/%25FF');
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 404, code: 'GROUP_ID_NOT_FOUND' });
  });
});

describe('an oversize body with Connection: close, on the node server', () => {
  let server: ServerType;
  let port: number;
  /** Lingers at most 1 MiB, however long it takes. */
  let stingy: ServerType;
  let stingyPort: number;

  const listen = (limits?: LingerLimits): Promise<{ server: ServerType; port: number }> =>
    new Promise((resolve) => {
      const s = serve({ fetch: stack.app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
        resolve({ server: s, port: info.port }),
      );
      lingerBeforeClose(s, limits); // as `sluice dev` does
    });

  beforeAll(async () => {
    ({ server, port } = await listen());
    ({ server: stingy, port: stingyPort } = await listen({ maxBytes: 1024 * 1024, maxMs: 60_000 }));
  });

  afterAll(async () => {
    await Promise.all([server, stingy].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  /** Sends `bytes` of body while reading; resolves with all it read, any socket error, and how much it sent. */
  function postRaw(bytes: number, to = port): Promise<{ response: string; error?: string; sent: number }> {
    return new Promise((resolve) => {
      const socket = connect(to, '127.0.0.1');
      const chunks: Buffer[] = [];
      let error: string | undefined;
      let sent = 0;
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.on('error', (e: NodeJS.ErrnoException) => {
        error = e.code ?? e.message;
      });
      socket.on('close', () => resolve({ response: Buffer.concat(chunks).toString('latin1'), sent, ...(error ? { error } : {}) }));
      socket.write(
        `POST /v1/topics/${TOPIC}/records HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${bytes}\r\nConnection: close\r\n\r\n`,
      );
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = (): void => {
        while (sent < bytes && !socket.destroyed) {
          const n = Math.min(chunk.length, bytes - sent);
          sent += n;
          if (!socket.write(chunk.subarray(0, n))) {
            socket.once('drain', pump);
            return;
          }
        }
        socket.end();
      };
      pump();
    });
  }

  it('answers 413 MESSAGE_TOO_LARGE completely, then closes, instead of resetting', async () => {
    const bytes = 12 * 1024 * 1024;
    for (let attempt = 0; attempt < 5; attempt++) {
      let result!: { response: string; error?: string; sent: number };
      await expectRefusedUntouched(
        async () => {
          result = await postRaw(bytes);
          const [head = '', body = ''] = result.response.split('\r\n\r\n');
          const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
          return { status, body: body.length > 0 ? JSON.parse(body) : undefined };
        },
        { status: 413, code: 'MESSAGE_TOO_LARGE' },
      );
      const [head = '', body = ''] = result.response.split('\r\n\r\n');
      expect({ attempt, error: result.error }).toEqual({ attempt, error: undefined });
      expect(head).toMatch(/\r\nconnection: close/i);
      expect(Buffer.byteLength(body)).toBe(Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]));
      expect(JSON.parse(body).error.maxRequestBytes).toBe(LIMITS.maxRequestBytes);
    }
  });

  it('stops lingering once the bound of discarded bytes is reached', async () => {
    const bytes = 512 * 1024 * 1024;
    const result = await postRaw(bytes, stingyPort);
    // Closed after about 1 MiB (plus what arrives within one 20 ms check), not after 512 MiB.
    expect(result.sent).toBeLessThan(bytes / 2);
  });
});
