/**
 * Runnable examples for docs/DELIVERY-SEMANTICS.md: the three delivery guarantees with plain
 * `fetch` against a Sluice endpoint (no client library needed).
 *
 *   npm start                                   # in one terminal
 *   npx tsx examples/delivery.ts http://localhost:8080
 *
 * test/integration/examples.int.test.ts runs these same functions against a live server.
 */

type Json = Record<string, any>;

export class HttpError extends Error {
  constructor(readonly status: number, readonly body: Json) {
    super(`${status} ${body?.error?.code ?? ''}: ${body?.error?.message ?? ''}`);
  }
  get retriable(): boolean {
    return this.body?.error?.retriable === true || this.status >= 500;
  }
}

async function request(base: string, method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as Json) : {};
  if (!res.ok) throw new HttpError(res.status, json);
  return json;
}

/** Retries retriable failures with jittered backoff; anything else is thrown at once. */
async function withRetries<T>(fn: () => Promise<T>, attempts = 8): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof HttpError) || !err.retriable || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 50 * 2 ** i));
    }
  }
}

/** At-most-once: send once, never retry. A failure may lose the records; none is duplicated. */
export async function atMostOnce(base: string, topic: string, values: unknown[]): Promise<boolean> {
  try {
    await request(base, 'POST', `/v1/topics/${topic}/records`, { records: values.map((value) => ({ value })) });
    return true;
  } catch {
    return false; // dropped: that is the at-most-once contract
  }
}

/**
 * At-least-once consumer: process, THEN commit the next offset. A crash between the two
 * reprocesses those records after a restart (duplicates possible, never a loss).
 */
export async function atLeastOnceConsume(
  base: string,
  group: string,
  topic: string,
  handle: (value: unknown) => Promise<void>,
): Promise<number> {
  const committed = (await request(base, 'GET', `/v1/groups/${group}/offsets`)).offsets as Json[];
  let offset: number = committed.find((o) => o.topic === topic && o.partition === 0)?.offset ?? 0;
  let processed = 0;
  for (;;) {
    const page = await withRetries(() => request(base, 'GET', `/v1/topics/${topic}/partitions/0/records?offset=${offset}&maxRecords=100`));
    if (page.records.length === 0) return processed;
    for (const r of page.records) {
      await handle(r.value);
      processed++;
    }
    offset = page.nextOffset;
    // Admin-style commit (no member): this example consumes alone; a group member would pass
    // memberId/memberEpoch from its heartbeat.
    await withRetries(() => request(base, 'POST', `/v1/groups/${group}/offsets`, { offsets: [{ topic, partition: 0, offset }] }));
  }
}

/**
 * Exactly-once consume-transform-produce: an idempotent producer (retries answer the original
 * offsets) and produce-with-commitOffsets (the output records and the input offset commit are
 * one atomic step). Restarting re-initialises the transactionalId, fencing any zombie.
 */
export async function exactlyOnceTransform(
  base: string,
  opts: { group: string; input: string; output: string; transactionalId: string; transform: (v: unknown) => unknown },
): Promise<number> {
  const producer = await request(base, 'POST', '/v1/producers', { transactionalId: opts.transactionalId });
  const member = await request(base, 'POST', `/v1/groups/${opts.group}/heartbeat`, { memberId: null, memberEpoch: 0, topics: [opts.input] });
  const committed = (await request(base, 'GET', `/v1/groups/${opts.group}/offsets`)).offsets as Json[];
  let offset: number = committed.find((o) => o.topic === opts.input && o.partition === 0)?.offset ?? 0;
  let sequence = 0;
  let produced = 0;
  try {
    for (;;) {
      const page = await withRetries(() => request(base, 'GET', `/v1/topics/${opts.input}/partitions/0/records?offset=${offset}&maxRecords=100`));
      if (page.records.length === 0) return produced;
      const body = {
        producer: { id: producer.id, epoch: producer.epoch, sequence },
        records: page.records.map((r: Json) => ({ value: opts.transform(r.value) })),
        commitOffsets: {
          group: opts.group,
          memberId: member.memberId,
          memberEpoch: member.memberEpoch,
          offsets: [{ topic: opts.input, partition: 0, offset: page.nextOffset }],
        },
      };
      // Safe to retry blindly: the same sequence is written at most once.
      await withRetries(() => request(base, 'POST', `/v1/topics/${opts.output}/records`, body));
      sequence++;
      produced += page.records.length;
      offset = page.nextOffset;
    }
  } finally {
    await request(base, 'POST', `/v1/groups/${opts.group}/heartbeat`, { memberId: member.memberId, memberEpoch: -1 }).catch(() => undefined);
  }
}

async function main(base: string): Promise<void> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const input = `orders-${suffix}`;
  const output = `invoices-${suffix}`;
  await request(base, 'POST', '/v1/topics', { name: input, partitions: 1 });
  await request(base, 'POST', '/v1/topics', { name: output, partitions: 1 });
  console.log('at-most-once sent:', await atMostOnce(base, input, [{ order: 1 }, { order: 2 }, { order: 3 }]));
  const seen: unknown[] = [];
  console.log('at-least-once processed:', await atLeastOnceConsume(base, `audit-${suffix}`, input, async (v) => void seen.push(v)));
  const n = await exactlyOnceTransform(base, {
    group: `billing-${suffix}`,
    input,
    output,
    transactionalId: `billing-${suffix}`,
    transform: (v) => ({ invoiceFor: v }),
  });
  console.log('exactly-once produced:', n, 'records to', output);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv[2] ?? 'http://localhost:8080').catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
