export * from './errors.ts';
export * from './varint.ts';
export * from './crc32c.ts';
export * from './compression.ts';
export * from './record-batch.ts';
export * from './segment.ts';
