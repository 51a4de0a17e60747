/**
 * Records between the wire and the log (API.md "Conventions"): lib/log takes and returns bytes
 * (lib/model/record.ts); the route converts with the encodings of lib/wire/record-encoding.ts.
 *
 * Produce: a field that cannot be encoded is INVALID_RECORD, and a json value nested too deep is
 * the RecordTooDeepError that produce checks after the refusals that outrank it. The route
 * throws neither: it hands the failure to the log as data (a FieldFailure), and produce raises
 * it where the order of a record's refusals puts it, after the topic lookup.
 *
 * Fetch: bytes back to the wire shape, with keyEncoding / valueEncoding 'base64' on a record
 * whose json or string read fell back.
 */
import { InvalidRecordError, RecordTooDeepError } from '../errors.ts';
import type { FieldFailure, ProduceField, ProduceRecordInput } from '../log/produce.ts';
import type { LogRecord } from '../model/record.ts';
import { MAX_JSON_DEPTH } from '../wire/json-value.ts';
import * as wire from '../wire/record-encoding.ts';

/** The log's error for a wire encoding failure (other errors pass through). */
export function domainError(err: unknown): unknown {
  if (!(err instanceof wire.RecordEncodingError)) return err;
  return err.kind === 'too-deep' ? new RecordTooDeepError(err.message, err.byteLength, MAX_JSON_DEPTH) : new InvalidRecordError(err.message);
}

/** Key or header value from the wire to bytes; throws the log's error. */
export function encodeText(value: unknown, encoding: wire.Encoding, what: string): Buffer | null {
  try {
    return wire.encodeText(value, encoding, what);
  } catch (err) {
    throw domainError(err);
  }
}

/** Record value from the wire to bytes; throws the log's error. */
export function encodeValue(value: unknown, encoding: wire.Encoding, what: string): Buffer | null {
  try {
    return wire.encodeValue(value, encoding, what);
  } catch (err) {
    throw domainError(err);
  }
}

/** A field's bytes, or its failure as data. */
function field(encode: () => Buffer | null): ProduceField {
  try {
    return encode();
  } catch (err) {
    if (!(err instanceof wire.RecordEncodingError)) throw err;
    return { failed: domainError(err) as InvalidRecordError } satisfies FieldFailure;
  }
}

/** A produce record as the request body carries it (already checked by the route's schema). */
export interface WireProduceRecord {
  readonly key?: string | null | undefined;
  readonly value?: unknown;
  readonly headers?: readonly { readonly key: string; readonly value?: string | null | undefined }[] | undefined;
  readonly partition?: number | undefined;
  readonly timestamp?: number | undefined;
}

/** Produce records from the wire: bytes, or per field the failure produce raises in order. */
export function produceRecordsFromWire(records: readonly WireProduceRecord[], encoding: wire.Encoding): ProduceRecordInput[] {
  return records.map((r, i) => ({
    key: field(() => wire.encodeText(r.key, encoding, `records[${i}].key`)),
    value: field(() => wire.encodeValue(r.value, encoding, `records[${i}].value`)),
    headers: (r.headers ?? []).map((h, j) => ({
      key: h.key,
      value: field(() => wire.encodeText(h.value, encoding, `records[${i}].headers[${j}].value`)),
    })),
    partition: r.partition,
    timestamp: r.timestamp,
  }));
}

/** One record as fetch answers carry it (API.md "Fetch"). */
export interface WireRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: unknown;
  headers: { key: string; value: string | null }[];
  keyEncoding?: 'base64';
  valueEncoding?: 'base64';
}

/** A record from the log to the wire, fields in the order answers have always had them. */
export function toWireRecord(r: LogRecord, encoding: wire.Encoding): WireRecord {
  const key = wire.decodeText(r.key, encoding);
  const value = wire.decodeValue(r.value, encoding);
  const record: WireRecord = {
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: key.value,
    value: value.value,
    headers: r.headers.map((h) => ({ key: h.key, value: wire.decodeText(h.value, encoding === 'json' ? 'string' : encoding).value })),
  };
  if (key.fellBackToBase64) record.keyEncoding = 'base64';
  if (value.fellBackToBase64) record.valueEncoding = 'base64';
  return record;
}

/** A fetch answer (or a partition's slot of one) with its records encoded for the wire. */
export function toWireBatch<T extends { readonly records?: readonly LogRecord[] | undefined }>(
  batch: T,
  encoding: wire.Encoding,
): Omit<T, 'records'> & { records?: WireRecord[] } {
  if (batch.records === undefined) return batch as Omit<T, 'records'>;
  return { ...batch, records: batch.records.map((r) => toWireRecord(r, encoding)) };
}
