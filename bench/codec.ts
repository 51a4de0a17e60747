/**
 * Codec throughput: 1,000 records × ~1 KB value per batch, our RecordBatch v2 encoder/decoder
 * vs kafkajs's (src/protocol/recordBatch/v0 + its decoder) on the same records in the same
 * run, uncompressed and per codec; plus CRC-32C GB/s (native and JS fallback).
 *
 * kafkajs gets the same native compression libraries registered as its codecs (it ships only
 * gzip), so compressed rows compare batch framing + record codec, not compression libraries.
 * MB/s is uncompressed record payload (the sum of encoded record bytes) per second.
 */
import { createRequire } from 'node:module';
import { CompressionCodec, type CompressionCodecId, compress, decompress, zstdImplementation } from '../lib/codec/compression.ts';
import { crc32cJs, crc32cNative } from '../lib/codec/crc32c.ts';
import { type RecordInput, decodeRecordBatch, encodeRecordBatch } from '../lib/codec/record-batch.ts';

const require = createRequire(import.meta.url);

/* eslint-disable @typescript-eslint/no-explicit-any */
const kafkajs = require('kafkajs') as any;
const { RecordBatch: KjsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as any;
const kjsDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as any;
const KjsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as any;
const KjsDecoder = require('kafkajs/src/protocol/decoder.js') as any;

for (const [type, id] of [
  [kafkajs.CompressionTypes.Snappy, CompressionCodec.snappy],
  [kafkajs.CompressionTypes.LZ4, CompressionCodec.lz4],
  [kafkajs.CompressionTypes.ZSTD, CompressionCodec.zstd],
] as const) {
  kafkajs.CompressionCodecs[type] = () => ({
    compress: async (encoder: { buffer: Buffer; }) => compress(id, encoder.buffer),
    decompress: async (buffer: Buffer) => decompress(id, buffer),
  });
}

const RECORDS = 1000;
const VALUE_BYTES = 1024;
const BASE_TS = 1_700_000_000_000;

/** Semi-realistic, compressible 1 KB JSON-ish values from a fixed-seed generator. */
function makeRecords(): RecordInput[] {
  let s = 12345;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 8;
  const words = ['order', 'customer', 'amount', 'currency', 'EUR', 'USD', 'status', 'shipped', 'pending', 'sku', 'warehouse', 'region'];
  const out: RecordInput[] = [];
  for (let i = 0; i < RECORDS; i++) {
    let v = `{"id":${i},"ts":${BASE_TS + i}`;
    while (v.length < VALUE_BYTES - 40) v += `,"${words[rnd() % words.length]}":"${words[rnd() % words.length]}-${rnd() % 100000}"`;
    v = (v + '}').padEnd(VALUE_BYTES, ' ');
    out.push({
      timestamp: BASE_TS + i,
      key: Buffer.from(`user-${(rnd() % 100000).toString().padStart(6, '0')}`),
      value: Buffer.from(v),
      headers: [{ key: 'trace-id', value: Buffer.from(rnd().toString(16).padStart(16, '0')) }],
    });
  }
  return out;
}

/**
 * Milliseconds per call for two contenders, measured in alternating trials (A, B, A, B, …) of
 * >= minMs each after a warm-up, median per contender. The bench machine is shared (2 cores,
 * other work running), so single runs swing by ±30% or more; alternating trials expose both
 * sides to the same background load, and the median drops outliers.
 */
const TRIALS = 7;
async function timePair(a: () => unknown, b: () => unknown, minMs = 150): Promise<[number, number]> {
  const one = async (fn: () => unknown): Promise<number> => {
    let iters = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < minMs * 1e6) {
      await fn();
      iters++;
      elapsed = Number(process.hrtime.bigint() - start);
    }
    return elapsed / 1e6 / iters;
  };
  for (let i = 0; i < 5; i++) {
    await a();
    await b();
  }
  const sa: number[] = [];
  const sb: number[] = [];
  for (let t = 0; t < TRIALS; t++) {
    sa.push(await one(a));
    sb.push(await one(b));
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[xs.length >> 1]!;
  return [median(sa), median(sb)];
}

const kjsCodec: Record<CompressionCodecId, number> = {
  0: kafkajs.CompressionTypes.None,
  1: kafkajs.CompressionTypes.GZIP,
  2: kafkajs.CompressionTypes.Snappy,
  3: kafkajs.CompressionTypes.LZ4,
  4: kafkajs.CompressionTypes.ZSTD,
};

export async function run(): Promise<void> {
  const records = makeRecords();
  const kjsMessages = records.map((r, i) => ({ key: r.key, value: r.value, headers: { [r.headers![0]!.key]: r.headers![0]!.value }, i }));
  const payloadBytes = encodeRecordBatch({ timestampType: 'CreateTime', records }).length - 61;
  const mb = payloadBytes / 1e6;

  const rows: string[] = [];
  const fmt = (ms: number) => `${(mb / (ms / 1000)).toFixed(0)} MB/s · ${((RECORDS / ms) * 1000 / 1e6).toFixed(2)} M rec/s`;
  for (const [name, codec] of Object.entries(CompressionCodec) as [string, CompressionCodecId][]) {
    const ours = encodeRecordBatch({ timestampType: 'CreateTime', compression: codec, records });
    const kjsEncode = async () => {
      const recs = kjsMessages.map((m) => KjsRecord({ offsetDelta: m.i, timestampDelta: 0, key: m.key, value: m.value, headers: m.headers }));
      return KjsRecordBatch({ compression: kjsCodec[codec], firstTimestamp: BASE_TS, maxTimestamp: BASE_TS + RECORDS - 1, lastOffsetDelta: RECORDS - 1, records: recs });
    };
    const theirs: Buffer = await kjsEncode();
    // sanity: each decoder reads the other's output
    if (decodeRecordBatch(theirs).records.length !== RECORDS) throw new Error('cannot read kafkajs batch');
    if ((await kjsDecodeBatch(new KjsDecoder(ours))).records.length !== RECORDS) throw new Error('kafkajs cannot read our batch');

    const [encOurs, encKjs] = await timePair(() => encodeRecordBatch({ timestampType: 'CreateTime', compression: codec, records }), kjsEncode);
    const [decOurs, decKjs] = await timePair(() => decodeRecordBatch(ours), () => kjsDecodeBatch(new KjsDecoder(ours)));
    // The decompressor is the same library call on both sides; timing it alone shows the floor
    // that neither decoder can go below.
    const payload = ours.subarray(61);
    const [inflateMs] = codec === CompressionCodec.none ? [0] : await timePair(() => decompress(codec, payload), () => undefined);
    const excl = codec === CompressionCodec.none ? '–' : `${((decKjs - inflateMs) / (decOurs - inflateMs)).toFixed(1)}×`;
    rows.push(
      `| ${name} | ${ours.length.toLocaleString('en-US')} | ${fmt(encOurs)} | ${fmt(encKjs)} | **${(encKjs / encOurs).toFixed(1)}×** | ${fmt(decOurs)} | ${fmt(decKjs)} | **${(decKjs / decOurs).toFixed(1)}×** | ${codec === CompressionCodec.none ? '–' : `${(mb / (inflateMs / 1000)).toFixed(0)} MB/s`} | ${excl} |`,
    );
  }

  // Small batches (what a single REST produce call often carries): is zstd still worth it?
  const small = records.slice(0, 10).map((r) => ({ ...r, value: r.value!.subarray(0, 100) }));
  const smallRows: string[] = [];
  const smallNone = encodeRecordBatch({ timestampType: 'CreateTime', records: small });
  for (const [name, codec] of Object.entries(CompressionCodec) as [string, CompressionCodecId][]) {
    const bytes = encodeRecordBatch({ timestampType: 'CreateTime', compression: codec, records: small });
    const [enc, dec] = await timePair(
      () => encodeRecordBatch({ timestampType: 'CreateTime', compression: codec, records: small }),
      () => decodeRecordBatch(bytes),
    );
    smallRows.push(`| ${name} | ${bytes.length} (${((bytes.length / smallNone.length) * 100).toFixed(0)}%) | ${(enc * 1000).toFixed(1)} µs | ${(dec * 1000).toFixed(1)} µs |`);
  }

  const crcBuf = Buffer.allocUnsafe(1 << 20).fill(0xa5);
  const native = crc32cNative ?? crc32cJs;
  const [nativeMs, jsMs] = await timePair(() => native(crcBuf), () => crc32cJs(crcBuf));
  const gbps = (bytes: number, ms: number) => bytes / 1e9 / (ms / 1000);
  const crcNative = crc32cNative ? gbps(crcBuf.length, nativeMs) : NaN;
  const crcJs = gbps(crcBuf.length, jsMs);
  // ~1 KB buffers (a small batch): shows the per-call cost of crossing into native code
  const crcSmall = Buffer.alloc(1100, 1);
  const [smallNativeMs, smallJsMs] = await timePair(
    () => { for (let i = 0; i < 1000; i++) native(crcSmall); },
    () => { for (let i = 0; i < 1000; i++) crc32cJs(crcSmall); },
  );

  console.log(`Node ${process.version}, ${process.platform}/${process.arch}, zstd via ${zstdImplementation}`);
  console.log(`batch: ${RECORDS} records × ${VALUE_BYTES} B value (+16 B key, 1 header); uncompressed records ${payloadBytes.toLocaleString('en-US')} B\n`);
  console.log('| codec | batch bytes | encode (ours) | encode (kafkajs) | speed-up | decode (ours) | decode (kafkajs) | speed-up | inflate alone | decode speed-up excl. inflate |');
  console.log('|---|---:|---|---|---:|---|---|---:|---:|---:|');
  for (const r of rows) console.log(r);
  console.log(`\nsmall batch: 10 records × 100 B value\n`);
  console.log('| codec | batch bytes | encode | decode |');
  console.log('|---|---:|---:|---:|');
  for (const r of smallRows) console.log(r);
  console.log(`\n| CRC-32C | GB/s |\n|---|---:|`);
  console.log(`| native (@node-rs/crc32), 1 MiB buffers | ${crcNative.toFixed(1)} |`);
  console.log(`| JS slicing-by-8, 1 MiB buffers | ${crcJs.toFixed(2)} |`);
  console.log(`| native, 1.1 KB buffers | ${gbps(crcSmall.length * 1000, smallNativeMs).toFixed(1)} |`);
  console.log(`| JS slicing-by-8, 1.1 KB buffers | ${gbps(crcSmall.length * 1000, smallJsMs).toFixed(2)} |`);
}
