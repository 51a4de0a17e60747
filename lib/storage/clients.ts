/**
 * AWS SDK clients, configured once per process (Lambda: once per cold start).
 *
 * Against emulators (DynamoDB Local, s3rver, LocalStack) we pass explicit endpoints, path-style
 * S3 addressing, and turn off the SDK's default flexible checksums: s3rver stores
 * `aws-chunked` stream bodies WITH their framing (docs/LOCAL-DEV.md, "Why the s3rver
 * settings"), and we only ever
 * send Buffers with our own CRC-32C inside the segment anyway.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';

export interface AwsClients {
  readonly s3: S3Client;
  readonly dynamo: DynamoDBClient;
}

export interface ClientOptions {
  /** e.g. http://127.0.0.1:8000 for DynamoDB Local; undefined = the real service. */
  readonly dynamoEndpoint?: string;
  /** e.g. http://127.0.0.1:4569 for s3rver; undefined = the real service. */
  readonly s3Endpoint?: string;
  readonly region?: string;
  /** Emulators accept any credentials; set for local backends only. */
  readonly dummyCredentials?: boolean;
  /** SDK-level retries; our own retry loop (lib/storage/retry.ts) sits above. */
  readonly maxAttempts?: number;
}

const DUMMY_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export function createAwsClients(opts: ClientOptions = {}): AwsClients {
  const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const credentials = opts.dummyCredentials ? DUMMY_CREDENTIALS : undefined;
  const dynamo = new DynamoDBClient({
    region,
    credentials,
    endpoint: opts.dynamoEndpoint,
    maxAttempts: opts.maxAttempts ?? 3,
  });
  const s3 = new S3Client({
    region,
    credentials,
    endpoint: opts.s3Endpoint,
    forcePathStyle: opts.s3Endpoint !== undefined,
    maxAttempts: opts.maxAttempts ?? 3,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { s3, dynamo };
}
