/**
 * `npm run bench -- client [--records N] [--value-bytes B] [--linger-ms L]`: what the client's
 * batching saves. 1 KB records are sent one per `send()` call through the producer, and, for
 * comparison, one per raw HTTP request (what a hand-written client does), at 1 and 8
 * concurrent senders, against the app served over HTTP on a local stack:
 *   raw         each sender POSTs one record, waits for the answer, repeats;
 *   awaited     each sender calls `producer.send(topic, record)` and awaits it before the next
 *               (one shared producer: a batch holds what the senders have in flight at once);
 *   pipelined   each sender calls `send()` without awaiting each (back-pressure by bufferBytes),
 *               then awaits them all: how a Kafka producer is normally used.
 * Reported: records/s, produce requests and S3 PutObjects per MiB of record values, and the
 * monthly cost of those requests at 1 MiB/s sustained on AWS list prices (below). The request
 * count, not the byte count, drives Sluice's bill: each produce request is one API Gateway
 * request, one Lambda invocation, one S3 PUT and a few DynamoDB writes, whatever it carries.
 */
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { createApp } from '../lib/api/app.ts';
import { Sluice } from '../lib/client/index.ts';
import { BenchOptions, fmtNum, log, machine, startBenchStack, table, uniqueName } from './support.ts';

/**
 * AWS list prices, us-east-1 (2025), per produce request:
 *  - API Gateway HTTP API: $1.00 per million requests (first 300 M a month);
 *  - Lambda: $0.20 per million invocations + 30 ms at 1,024 MB ($0.0000166667 per GB-s) = $0.50/M;
 *  - S3 Standard PUT: $0.005 per 1,000 = $5.00/M;
 *  - DynamoDB on demand, $0.625 per million write request units: a produce writes 1 UpdateItem
 *    (the reservation, 1 WRU) and a TransactWriteItems of the entry and the producer state
 *    (2 items × 2 WRU): 5 WRU = $3.13/M.
 */
const PRICE_PER_MILLION_REQUESTS = 1.0 + 0.2 + 0.03 * 1 * 0.0000166667 * 1e6 + 5.0 + 5 * 0.625;
const SECONDS_PER_MONTH = 30 * 24 * 3600;

interface Row {
  readonly mode: string;
  readonly senders: number;
  readonly recordsPerSec: number;
  readonly producesPerMiB: number;
  readonly putsPerMiB: number;
  readonly recordsPerRequest: number;
}

export async function run(args: string[]): Promise<void> {
  const opts = new BenchOptions(args, ['records', 'value-bytes', 'linger-ms']);
  const total = opts.number('records', 4000);
  const valueBytes = opts.number('value-bytes', 1024);
  const lingerMs = opts.number('linger-ms', 5);
  const bench = await startBenchStack();
  const server = await new Promise<{ base: string; close(): void }>((resolve) => {
    const s = serve({ fetch: createApp(bench.deps).fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve({ base: `http://127.0.0.1:${info.port}`, close: () => s.close() }),
    );
  });
  const rows: Row[] = [];
  try {
    const value = 'v'.repeat(valueBytes - 2); // as JSON text: valueBytes bytes stored
    const mib = (total * valueBytes) / (1024 * 1024);
    for (const senders of [1, 8]) {
      for (const mode of ['raw', 'awaited', 'pipelined'] as const) {
        const sluice = new Sluice({ url: server.base });
        const topic = uniqueName('bench-client');
        await sluice.admin.createTopic({ name: topic, partitions: 8 });
        const producer = sluice.producer({ lingerMs });
        const perSender = Math.ceil(total / senders);
        const puts = () => bench.counter.sends.get('s3 PutObject') ?? 0;
        const putsBefore = puts();
        let produces = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: senders }, async (_, s) => {
            const pending: Promise<unknown>[] = [];
            for (let i = 0; i < perSender; i++) {
              const record = { key: `k-${s}-${i}`, value };
              if (mode === 'raw') {
                const res = await fetch(`${server.base}/v1/topics/${topic}/records`, {
                  method: 'POST',
                  headers: { 'content-type': 'application/json' },
                  body: JSON.stringify({ records: [record] }),
                });
                produces++;
                if (!res.ok) throw new Error(`raw produce answered ${res.status}: ${await res.text()}`);
                await res.arrayBuffer();
              } else if (mode === 'awaited') {
                await producer.send(topic, record);
              } else {
                pending.push(producer.send(topic, record));
              }
            }
            await Promise.all(pending);
          }),
        );
        await producer.close();
        const seconds = (performance.now() - started) / 1000;
        if (mode !== 'raw') produces = producer.stats.requests;
        const written = (await sluice.admin.describeTopic(topic)).partitions.reduce((n, p) => n + p.highWatermark, 0);
        if (written !== perSender * senders) throw new Error(`${mode}: ${written} records stored, ${perSender * senders} sent`);
        rows.push({
          mode,
          senders,
          recordsPerSec: written / seconds,
          producesPerMiB: produces / mib,
          putsPerMiB: (puts() - putsBefore) / mib,
          recordsPerRequest: written / produces,
        });
        log(`${mode} × ${senders}: ${fmtNum(written / seconds)} records/s, ${fmtNum(produces / mib, 1)} requests/MiB`);
      }
    }
  } finally {
    server.close();
    await bench.stop();
  }
  log(machine());
  log(`${total} records of ${valueBytes} bytes per row, lingerMs ${lingerMs}, 8 partitions, keyed; $${PRICE_PER_MILLION_REQUESTS.toFixed(2)} per million produce requests`);
  log(
    table(
      ['mode', 'senders', 'records/s', 'records per request', 'produce requests per MiB', 'S3 PUTs per MiB', 'request cost per month at 1 MiB/s'],
      rows.map((r) => [
        r.mode,
        String(r.senders),
        fmtNum(r.recordsPerSec),
        fmtNum(r.recordsPerRequest, 1),
        fmtNum(r.producesPerMiB, 1),
        fmtNum(r.putsPerMiB, 1),
        `$${fmtNum((r.producesPerMiB * SECONDS_PER_MONTH * PRICE_PER_MILLION_REQUESTS) / 1e6)}`,
      ]),
    ),
  );
}
