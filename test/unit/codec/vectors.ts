/**
 * Loads the codec reference vectors in vectors/ (see vectors/README.md for where each value
 * comes from).
 */
import { readFileSync } from 'node:fs';

const dir = new URL('./vectors/', import.meta.url);

export function loadVectors<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as T;
}

export const hex = (s: string): Buffer => Buffer.from(s, 'hex');

export interface ExpectedRecord {
  length: number;
  attributes: number;
  timestampDelta: number;
  offsetDelta: number;
  key_hex: string | null;
  value_hex: string | null;
  headers: { key: string; value_hex: string | null; }[];
  offset: number;
  timestamp: number;
}

export interface BatchVector {
  name: string;
  notes: string;
  hex: string;
  byte_length: number;
  expected_decoded: {
    baseOffset: number;
    batchLength: number;
    partitionLeaderEpoch: number;
    magic: number;
    crc: number;
    attributes: number;
    attributes_decoded: {
      compression: number;
      timestampType: number;
      isTransactional: boolean;
      isControl: boolean;
      hasDeleteHorizonMs: boolean;
    };
    lastOffsetDelta: number;
    baseTimestamp: number;
    maxTimestamp: number;
    producerId: number;
    producerEpoch: number;
    baseSequence: number;
    recordsCount: number;
    total_size: number;
    records_compressed_hex?: string;
    records?: ExpectedRecord[];
  };
  expected_from_source_test: unknown;
}

export const BATCH_VECTOR_FILES = [
  'recordbatch-uncompressed-broker.json',
  'recordbatch-produce-encoded.json',
  'recordbatch-gzip.json',
  'recordbatch-sarama.json',
] as const;

export function allBatchVectors(): (BatchVector & { file: string; })[] {
  return BATCH_VECTOR_FILES.flatMap((file) =>
    loadVectors<{ vectors: BatchVector[]; }>(file).vectors.map((v) => ({ ...v, file })),
  );
}
