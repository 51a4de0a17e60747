/**
 * `sluice/client`: the TypeScript client of the Sluice REST API (docs/CLIENT.md).
 * Runs on Node 20+, Lambda and in browsers; `fetch` is its only transport.
 */
export { Sluice, type SluiceOptions } from './sluice.ts';
export { Admin, type AlterTopic, type CreateToken, type CreateTopic, type TokenListing } from './admin.ts';
export { Producer, PRODUCER_DEFAULTS, type ProducerOptions, type ProducerStats, type RecordMetadata } from './producer.ts';
export * from './consumer.ts';
export * from './transform.ts';
export type { ProducerRecord } from './records.ts';
export type { AwsCredentials, ConnectionOptions, CredentialsOrProvider, SigV4Options } from './transport.ts';
export * from './errors.ts';
export type * from './types.ts';
