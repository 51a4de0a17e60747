/**
 * List prices used by `npm run cost` (bench/cost.ts, bench/cost-model.ts): AWS region us-east-1,
 * USD, no free tier, no savings plans, no volume tiers beyond the first (every workload priced
 * here sits in the first tier). Every figure carries where it was read and when.
 *
 * `verified: true` means the number itself was read on the cited page on `asOf`. `false` means
 * the page (if any) was found but its text did not show the number, or no page was found: the
 * figure is the best known list price as of `asOf` and must be checked before it is relied on.
 * No URL here is made up: a figure without a page has `source: undefined`.
 *
 * "GB" in AWS price lists is billed as 2^30 bytes; this file and the model use GiB throughout.
 */

export interface Price {
  /** USD per `unit`. */
  readonly usd: number;
  readonly unit: string;
  readonly source?: string;
  /** When the figure was read (verified) or the date of the knowledge it comes from (unverified). */
  readonly asOf: string;
  readonly verified: boolean;
  readonly note?: string;
}

const READ = '2026-12-01';
const KNOWN = '2025 (list price known at that date)';

export const PRICES = {
  // ---- API Gateway HTTP API ----
  apiGwHttpPerMillion: {
    usd: 1.0,
    unit: 'million requests (first 300 M a month)',
    source: 'https://www.learnaws.org/2021/01/10/api-gateway-pricing/',
    asOf: READ,
    verified: true,
    note: "AWS page https://aws.amazon.com/api-gateway/pricing/ (HTTP API section); $0.90/M above 300 M; requests are metered in 512 KB increments (AWS whitepaper 'Best practices for API Gateway private APIs integration')",
  },

  // ---- Lambda (arm64) ----
  lambdaArmPerGbSecond: {
    usd: 0.0000133334,
    unit: 'GB-second, arm64 (first 7.5 billion GB-s a month)',
    source: 'https://cloudchipr.com/blog/aws-lambda-pricing',
    asOf: READ,
    verified: true,
    note: 'a third-party copy of https://aws.amazon.com/lambda/pricing/ (the AWS page itself was not checked)',
  },
  lambdaPerMillionRequests: {
    usd: 0.2,
    unit: 'million invocations',
    source: 'https://git.mcrn.ar/mariano/lambda_local_runner/src/commit/957e45b8adae23ce50b966346229585b5df18b4d/docs/lambdas-md/lambda-13-cost.md?display=rendered',
    asOf: READ,
    verified: true,
    note: 'third-party table of Lambda prices (requests $0.20/M on both architectures)',
  },

  // ---- S3 Standard ----
  s3StandardPerGbMonth: {
    usd: 0.023,
    unit: 'GB-month (first 50 TB)',
    source: 'https://awsnegotiations.com/s3-express-one-zone-pricing.html',
    asOf: READ,
    verified: true,
    note: '"1 TB of storage costs $23" on S3 Standard',
  },
  s3StandardPutPer1000: {
    usd: 0.005,
    unit: '1,000 PUT, COPY, POST, LIST requests',
    source: 'https://awsnegotiations.com/s3-express-one-zone-pricing.html',
    asOf: READ,
    verified: true,
    note: 'Express PUT "$0.0025 per 1,000 - about half the S3 Standard rate" (pre-April-2025 Express figure); Standard $0.005',
  },
  s3StandardGetPer1000: {
    usd: 0.0004,
    unit: '1,000 GET and other requests',
    source: 'https://awsnegotiations.com/s3-express-one-zone-pricing.html',
    asOf: READ,
    verified: true,
    note: '"On Standard S3, 100M GET requests per day cost $1,200 monthly ($0.0004 per 1,000"',
  },

  // ---- S3 Express One Zone (after the April 2025 price cut) ----
  s3ExpressPerGbMonth: {
    usd: 0.11,
    unit: 'GB-month',
    source: 'https://aws.amazon.com/s3/faqs/',
    asOf: READ,
    verified: true,
    note: 'S3 FAQ pricing example (us-east-1): "10 GB-Month x $0.11"',
  },
  s3ExpressPutPer1000: {
    usd: 0.00113,
    unit: '1,000 PUT requests',
    source: 'https://aws.amazon.com/s3/faqs/',
    asOf: READ,
    verified: true,
    note: 'S3 FAQ example: "1,000,000 requests x $0.00113/1,000"',
  },
  s3ExpressGetPer1000: {
    usd: 0.00003,
    unit: '1,000 GET requests',
    source: 'https://aws.amazon.com/s3/faqs/',
    asOf: READ,
    verified: true,
    note: 'S3 FAQ example: "9,000,000 requests x $0.00003/1,000"',
  },
  s3ExpressUploadPerGb: {
    usd: 0.0032,
    unit: 'GB uploaded',
    source: 'https://aws.amazon.com/s3/faqs/',
    asOf: READ,
    verified: true,
    note: 'S3 FAQ example: data upload charge "x $0.0032" per GB, charged on every byte',
  },
  s3ExpressRetrievalPerGb: {
    usd: 0.0006,
    unit: 'GB retrieved',
    source: 'https://aws.amazon.com/s3/faqs/',
    asOf: READ,
    verified: true,
    note: 'S3 FAQ example: data retrieval charge "x $0.0006" per GB',
  },

  // ---- DynamoDB on demand (after the November 2024 cut) ----
  ddbPerMillionWru: {
    usd: 0.625,
    unit: 'million write request units (on demand)',
    source: 'https://airbyte.com/data-engineering-resources/dynamodb-pricing',
    asOf: READ,
    verified: true,
    note: 'after the 50% on-demand cut of November 2024',
  },
  ddbPerMillionRru: {
    usd: 0.125,
    unit: 'million read request units (on demand)',
    source: 'https://airbyte.com/data-engineering-resources/dynamodb-pricing',
    asOf: READ,
    verified: true,
    note: 'after the 50% on-demand cut of November 2024',
  },
  ddbPerGbMonth: {
    usd: 0.25,
    unit: 'GB-month of table storage (Standard table class)',
    source: 'https://aws.amazon.com/dynamodb/pricing/',
    asOf: READ,
    verified: true,
    note: '"prices start from $0.25 per GB-month" (first 25 GB free, not applied here)',
  },

  // ---- Kinesis Data Streams ----
  kinesisOnDemandStreamHour: {
    usd: 0.04,
    unit: 'stream-hour (on demand)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: KNOWN,
    verified: false,
    note: 'the page lists the billing dimensions (stream-hour, GB in, GB out, extended retention); the figures could not be checked against it',
  },
  kinesisOnDemandPerGbIn: {
    usd: 0.08,
    unit: 'GB ingested (on demand; each record rounded up to 1 KB)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: KNOWN,
    verified: false,
  },
  kinesisOnDemandPerGbOut: {
    usd: 0.04,
    unit: 'GB retrieved (on demand, shared-throughput consumers)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: KNOWN,
    verified: false,
  },
  kinesisOnDemandExtendedRetentionGbMonth: {
    usd: 0.1,
    unit: 'GB-month stored beyond 24 h, up to 7 days (on demand)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: KNOWN,
    verified: false,
  },
  kinesisShardHour: {
    usd: 0.015,
    unit: 'shard-hour (provisioned)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: KNOWN,
    verified: false,
    note: 'a third-party lesson (kindatechnical.com) uses the same $0.015 per shard-hour',
  },
  kinesisPutPayloadUnitPerMillion: {
    usd: 0.014,
    unit: 'million PUT payload units of 25 KB (provisioned)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: KNOWN,
    verified: false,
  },
  kinesisExtendedRetentionShardHour: {
    usd: 0.02,
    unit: 'shard-hour of extended retention up to 7 days (provisioned)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: KNOWN,
    verified: false,
  },

  // ---- MSK Serverless ----
  mskServerlessClusterHour: {
    usd: 0.75,
    unit: 'cluster-hour',
    source: 'https://gist.github.com/EverettBerry/d24aa940ad43c313803248cea6366682',
    asOf: '2022-10-03 (third-party table of the AWS price list)',
    verified: false,
    note: 'figure read on a third-party table from 2022, not on https://aws.amazon.com/msk/pricing/',
  },
  mskServerlessPartitionHour: {
    usd: 0.0015,
    unit: 'partition-hour',
    source: 'https://gist.github.com/EverettBerry/d24aa940ad43c313803248cea6366682',
    asOf: '2022-10-03 (third-party table of the AWS price list)',
    verified: false,
  },
  mskServerlessPerGbIn: {
    usd: 0.1,
    unit: 'GiB written',
    source: 'https://gist.github.com/EverettBerry/d24aa940ad43c313803248cea6366682',
    asOf: '2022-10-03 (third-party table of the AWS price list)',
    verified: false,
  },
  mskServerlessPerGbOut: {
    usd: 0.05,
    unit: 'GiB read',
    source: 'https://gist.github.com/EverettBerry/d24aa940ad43c313803248cea6366682',
    asOf: '2022-10-03 (third-party table of the AWS price list)',
    verified: false,
  },
  mskServerlessStorageGbMonth: {
    usd: 0.1,
    unit: 'GiB-month stored',
    source: 'https://gist.github.com/EverettBerry/d24aa940ad43c313803248cea6366682',
    asOf: '2022-10-03 (third-party table of the AWS price list)',
    verified: false,
  },

  // ---- WarpStream BYOC (vendor fee; the cloud resources are priced separately) ----
  warpstreamClusterHour: {
    usd: 0.69,
    unit: 'cluster-hour, Fundamentals tier ($0.1725 per 15-minute interval)',
    source: 'https://raw.githubusercontent.com/api-evangelist/warpstream/refs/heads/main/finops/warpstream-finops.yml',
    asOf: KNOWN,
    verified: false,
    note: 'from a third-party, machine-generated summary of https://www.warpstream.com/pricing; the billing dimensions themselves are in https://docs.warpstream.com/warpstream/reference/billing',
  },
  warpstreamPerGibWritten: {
    usd: 0.055,
    unit: 'uncompressed GiB written (first tier)',
    source: undefined,
    asOf: KNOWN,
    verified: false,
    note: 'the figure could not be checked; the dimension is documented in https://docs.warpstream.com/warpstream/reference/billing',
  },
  warpstreamPerGibStoredMonth: {
    usd: 0.01,
    unit: 'uncompressed GiB-month stored',
    source: undefined,
    asOf: KNOWN,
    verified: false,
    note: 'the figure could not be checked; the dimension is documented in https://docs.warpstream.com/warpstream/reference/billing',
  },
  ec2M7gLargeHour: {
    usd: 0.0816,
    unit: 'instance-hour, m7g.large on demand (a WarpStream agent)',
    source: undefined,
    asOf: KNOWN,
    verified: false,
  },
} as const satisfies Record<string, Price>;

export type PriceId = keyof typeof PRICES;
export type PriceTable = Record<PriceId, Price>;

/** Fixed facts of the pricing model (not prices). */
export const BILLING = {
  /** AWS bills a month as 730 hours. */
  hoursPerMonth: 730,
  /** HTTP API metering increment. */
  apiGwIncrementBytes: 512 * 1024,
  /** Kinesis PUT payload unit. */
  kinesisPayloadUnitBytes: 25 * 1024,
  /** Kinesis shard limits: 1 MB/s and 1,000 records/s in, 2 MB/s out (shared by the consumers). */
  kinesisShardInBytesPerSec: 1_000_000,
  kinesisShardInRecordsPerSec: 1000,
  kinesisShardOutBytesPerSec: 2_000_000,
} as const;
