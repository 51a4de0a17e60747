/**
 * Records as a producer hands them in, and the two facts the client needs about each before
 * it is sent: the partition the server would choose for its key (so batches are cut per
 * request by partition count), and its size on the wire (so batches are cut by bytes).
 *
 * Partitioning is Kafka's (and the server's, lib/partition): an explicit `partition`, else
 * toPositive(murmur2(key bytes)) % partitions; null-keyed records are left to the batch's
 * sticky partition. Key bytes are the UTF-8 of the key in `json` and `string`, the decoded
 * base64 in `base64`, exactly as the server stores them. Pure and browser-safe (no Buffer).
 */
import { partitionForKey } from '../partition/partitioner.ts';
import type { Encoding, Header } from './types.ts';
import { InvalidRecordError } from './errors.ts';

export interface ProducerRecord {
  readonly key?: string | null;
  /** Any JSON value with `json` encoding; a string with `string`; base64 text with `base64`. */
  readonly value?: unknown;
  /** A list of headers (keys may repeat), or an object of them. */
  readonly headers?: readonly Header[] | Readonly<Record<string, string | null>>;
  readonly partition?: number;
  readonly timestamp?: number;
}

/** A record as the produce request carries it (docs/API.md "Produce"). */
export interface WireRecord {
  key?: string | null;
  value?: unknown;
  headers?: Header[];
  partition: number;
  timestamp?: number;
}

const utf8 = new TextEncoder();

export function keyBytes(key: string, encoding: Encoding): Uint8Array {
  if (encoding !== 'base64') return utf8.encode(key);
  if (key.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(key)) throw new InvalidRecordError('key is not valid base64', { retriable: false });
  const binary = atob(key);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The record's partition, or undefined for a null key without an explicit one (sticky). */
export function partitionOf(record: ProducerRecord, encoding: Encoding, partitions: number): number | undefined {
  if (record.partition !== undefined) return record.partition;
  if (record.key === null || record.key === undefined) return undefined;
  return partitionForKey(keyBytes(record.key, encoding), partitions);
}

function headersOf(h: ProducerRecord['headers']): Header[] | undefined {
  if (h === undefined) return undefined;
  if (Array.isArray(h)) return h as Header[];
  return Object.entries(h as Record<string, string | null>).map(([key, value]) => ({ key, value }));
}

export function toWire(record: ProducerRecord, partition: number): WireRecord {
  const wire: WireRecord = { partition };
  if (record.key !== undefined) wire.key = record.key;
  if (record.value !== undefined) wire.value = record.value;
  const headers = headersOf(record.headers);
  if (headers !== undefined) wire.headers = headers;
  if (record.timestamp !== undefined) wire.timestamp = record.timestamp;
  return wire;
}

/** Bytes of the record's JSON in the request body, plus its separating comma. */
export function wireBytes(record: WireRecord): number {
  return utf8.encode(JSON.stringify(record)).length + 1;
}

/** Room kept in every request for the envelope: encoding, producer, commitOffsets, braces. */
export const REQUEST_OVERHEAD_BYTES = 16 * 1024;
