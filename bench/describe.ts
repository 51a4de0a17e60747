/**
 * `npm run bench -- describe [--partitions N] [--written K]`: how long describe of a wide
 * topic takes from a fresh app instance (cold per-process cache), and how many DynamoDB
 * requests it costs. K partitions get one record each first (default 1% of N); the rest are
 * empty. Three describes per configuration, the median reported; requests are
 * those of the first describe (later ones find the hints the first one left).
 */
import { createApp } from '../lib/api/app.ts';
import { call, createTopic, fmtMs, formatCounts, inProcess, log, machine, postJson, startBenchStack, table, uniqueName } from './support.ts';

function numberFlag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a non-negative integer`);
  return v;
}

export async function run(args: string[]): Promise<void> {
  const partitions = numberFlag(args, 'partitions', 10_000);
  const written = Math.min(partitions, numberFlag(args, 'written', Math.ceil(partitions / 100)));
  const bench = await startBenchStack();
  try {
    const writer = inProcess(createApp(bench.deps));
    const topic = uniqueName('wide');
    await createTopic(writer, topic, partitions);
    const step = Math.max(1, Math.floor(partitions / Math.max(1, written)));
    for (let k = 0; k < written; k++) {
      await call(writer, `/v1/topics/${topic}/records`, postJson(JSON.stringify({ records: [{ partition: (k * step) % partitions, value: k }] })));
    }
    const rows: string[][] = [];
    for (const label of ['cold (fresh instance)', 'warm (same instance)']) {
      const times: number[] = [];
      let requests = '';
      const reader = inProcess(createApp(bench.deps));
      for (let i = 0; i < 3; i++) {
        const fresh = label.startsWith('cold') ? inProcess(createApp(bench.deps)) : reader;
        const before = bench.counter.snapshot();
        const started = performance.now();
        const body = JSON.parse(await call(fresh, `/v1/topics/${topic}`)) as { partitions: { highWatermark: number }[] };
        times.push(performance.now() - started);
        const total = body.partitions.reduce((n, p) => n + p.highWatermark, 0);
        if (total !== written) throw new Error(`describe reported ${total} records, ${written} were written`);
        if (i === 0) requests = formatCounts(bench.counter.since(before).sends);
      }
      times.sort((a, b) => a - b);
      rows.push([label, String(partitions), String(written), fmtMs(times[1]!), requests]);
    }
    log(machine());
    log(table(['describe', 'partitions', 'written', 'median ms', 'DynamoDB requests (first run)'], rows));
  } finally {
    await bench.stop();
  }
}
