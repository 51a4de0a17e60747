/**
 * API Gateway HTTP API events (payload format 2.0) as API Gateway builds them, for invoking
 * `functions/api`'s handler without AWS. Follows the documented shape:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 *
 * What API Gateway does and this mirrors: header names lower-cased, repeated headers joined
 * with commas, the Cookie header moved into `cookies`, `rawQueryString` kept URL-encoded
 * while `queryStringParameters` are decoded (repeated keys joined with commas), binary bodies
 * base64-encoded with `isBase64Encoded: true`.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

export interface ApiGatewayV2EventOptions {
  readonly method: string;
  /** Path without query string, e.g. `/v1/topics/orders`. */
  readonly path: string;
  /** Query parameters; an array repeats the key. */
  readonly query?: Readonly<Record<string, string | number | readonly (string | number)[]>>;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** The payload as the client sent it (not yet encoded). */
  readonly body?: string | Uint8Array;
  /** Deliver the body base64-encoded, as API Gateway does for binary content. */
  readonly isBase64Encoded?: boolean;
  readonly sourceIp?: string;
}

const API_ID = 'abc123def4';
const ACCOUNT_ID = '123456789012';
const DOMAIN = `${API_ID}.execute-api.us-east-1.amazonaws.com`;

/** `12/Mar/2020:19:03:58 +0000`, the format of `requestContext.time`. */
function clfTime(date: Date): string {
  const months = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

export function apiGatewayV2Event(opts: ApiGatewayV2EventOptions): APIGatewayProxyEventV2 {
  const method = opts.method.toUpperCase();
  const sourceIp = opts.sourceIp ?? '198.51.100.7';
  const now = new Date();

  const pairs = Object.entries(opts.query ?? {}).flatMap(([key, value]) =>
    (Array.isArray(value) ? value : [value]).map((v) => [key, String(v)] as const),
  );
  const rawQueryString = pairs
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  const queryStringParameters: Record<string, string> = {};
  for (const [k, v] of pairs) {
    queryStringParameters[k] = k in queryStringParameters ? `${queryStringParameters[k]},${v}` : v;
  }

  const bodyBytes =
    opts.body === undefined
      ? undefined
      : typeof opts.body === 'string'
        ? Buffer.from(opts.body, 'utf8')
        : Buffer.from(opts.body);
  const userAgent = 'sluice-test/1.0';
  const headers: Record<string, string> = {
    accept: '*/*',
    host: DOMAIN,
    'user-agent': userAgent,
    'x-amzn-trace-id': `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    'x-forwarded-for': sourceIp,
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
    ...(bodyBytes ? { 'content-length': String(bodyBytes.length) } : {}),
  };
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(opts.headers ?? {})) {
    const key = name.toLowerCase();
    const values = Array.isArray(value) ? [...value] : [value as string];
    if (key === 'cookie') {
      cookies = [...(cookies ?? []), ...values.flatMap((v) => v.split(/;\s*/)).filter(Boolean)];
      continue;
    }
    // Caller headers replace the defaults above (e.g. a custom user-agent or content-length).
    headers[key] = values.join(',');
  }

  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: opts.path,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(pairs.length > 0 ? { queryStringParameters } : {}),
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: API_ID,
      domainName: DOMAIN,
      domainPrefix: API_ID,
      http: { method, path: opts.path, protocol: 'HTTP/1.1', sourceIp, userAgent },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    ...(bodyBytes
      ? { body: opts.isBase64Encoded ? bodyBytes.toString('base64') : bodyBytes.toString('utf8') }
      : {}),
    isBase64Encoded: opts.isBase64Encoded ?? false,
  };
}

const URL_ID = 'abcdefghijklmnopqrstuvwxyz012345';
const URL_DOMAIN = `${URL_ID}.lambda-url.us-east-1.on.aws`;

/**
 * A Lambda Function URL event: payload format 2.0 as above, with the URL's domain (`<url-id>.
 * lambda-url.<region>.on.aws`) in Host and requestContext, and no API Gateway stage (routeKey
 * and stage are `$default`, as Lambda sends them).
 */
export function functionUrlEvent(opts: ApiGatewayV2EventOptions): APIGatewayProxyEventV2 {
  const event = apiGatewayV2Event(opts);
  return {
    ...event,
    headers: { ...event.headers, host: URL_DOMAIN },
    requestContext: { ...event.requestContext, apiId: URL_ID, domainName: URL_DOMAIN, domainPrefix: URL_ID },
  };
}

/** A minimal Lambda context: enough for handlers that read the request id or remaining time. */
export function lambdaContext(overrides: Partial<Context> = {}): Context {
  const deadline = Date.now() + 30_000;
  const functionName = 'Sluice-ApiFunction';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `2025/01/01/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...overrides,
  };
}
