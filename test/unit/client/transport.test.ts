/**
 * The client's transport (lib/client/transport.ts) against a real loopback HTTP server: typed
 * errors from error bodies, network failures as retriable NetworkErrors, bearer tokens, and
 * SigV4. The server checks a signature the way API Gateway does: it recomputes it from what
 * arrived (method, path, query, the signed headers, the body) with the caller's secret, so a
 * request changed after signing, or signed with other credentials, fails the check.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  NetworkError, OffsetOutOfRangeError, SluiceClientError, ThrottlingQuotaExceededError, UnknownServerError, UnknownTopicOrPartitionError,
} from '../../../lib/client/errors.ts';
import { Transport } from '../../../lib/client/transport.ts';

const KEYS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

interface Seen {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

let server: Server;
let base: string;
let answer: (req: Seen) => { status: number; body: unknown } = () => ({ status: 200, body: {} });
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method!, url: new URL(req.url!, 'http://x'), headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      const { status, body } = answer(s);
      res.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
afterEach(() => {
  seen.length = 0;
  answer = () => ({ status: 200, body: {} });
});

/** API Gateway's check, in short: re-sign what arrived with the secret of the access key. */
async function signatureValid(s: Seen, secret = KEYS.secretAccessKey): Promise<boolean> {
  const auth = String(s.headers.authorization ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]+)$/.exec(auth);
  if (!m) return false;
  const [, accessKeyId, , region, service, signedHeaders, signature] = m;
  // The signed payload hash must be the body's (the signer puts it in x-amz-content-sha256).
  const payloadHash = s.headers['x-amz-content-sha256'];
  if (payloadHash !== undefined && payloadHash !== createHash('sha256').update(s.body).digest('hex')) return false;
  const headers: Record<string, string> = {};
  for (const h of signedHeaders!.split(';')) headers[h] = String(s.headers[h]);
  const amzDate = String(s.headers['x-amz-date']);
  const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  const query: Record<string, string> = {};
  for (const [k, v] of s.url.searchParams) query[k] = v;
  const signer = new SignatureV4({ credentials: { accessKeyId: accessKeyId!, secretAccessKey: secret }, region: region!, service: service!, sha256: Sha256 });
  const again = await signer.sign(
    { method: s.method, protocol: 'http:', hostname: '127.0.0.1', path: s.url.pathname, query, headers, body: s.body || undefined },
    { signingDate },
  );
  return String(again.headers.authorization).endsWith(`Signature=${signature}`);
}

describe('answers', () => {
  it('parses JSON, and 204 as {}', async () => {
    answer = () => ({ status: 200, body: { topics: [] } });
    expect(await new Transport({ url: base }).request('GET', '/v1/topics')).toEqual({ topics: [] });
    answer = () => ({ status: 204, body: undefined });
    expect(await new Transport({ url: base }).request('DELETE', '/v1/topics/x')).toEqual({});
  });

  it('throws the typed error of the code, with status, retriable and details', async () => {
    answer = () => ({ status: 416, body: { error: { code: 'OFFSET_OUT_OF_RANGE', message: 'out', retriable: false, logStartOffset: 5, highWatermark: 9 } } });
    const err = await new Transport({ url: base }).request('GET', '/v1/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OffsetOutOfRangeError);
    expect(err).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', status: 416, retriable: false, details: { logStartOffset: 5, highWatermark: 9 } });
    answer = () => ({ status: 404, body: { error: { code: 'UNKNOWN_TOPIC_OR_PARTITION', message: 'no', retriable: false } } });
    expect(await new Transport({ url: base }).request('GET', '/v1/x').catch((e: unknown) => e)).toBeInstanceOf(UnknownTopicOrPartitionError);
  });

  it('keeps an unknown code, and maps bodies without the error shape by status', async () => {
    answer = () => ({ status: 409, body: { error: { code: 'SOMETHING_NEW', message: 'later server', retriable: true } } });
    const unknown = await new Transport({ url: base }).request('GET', '/v1/x').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(SluiceClientError);
    expect(unknown).toMatchObject({ code: 'SOMETHING_NEW', retriable: true });
    answer = () => ({ status: 429, body: { message: 'Too Many Requests' } }); // API Gateway's own throttling
    const throttled = await new Transport({ url: base }).request('GET', '/v1/x').catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(ThrottlingQuotaExceededError);
    expect(throttled).toMatchObject({ retriable: true });
    answer = () => ({ status: 502, body: { message: 'Internal Server Error' } });
    expect(await new Transport({ url: base }).request('GET', '/v1/x').catch((e: unknown) => e)).toMatchObject({ code: 'UNKNOWN_SERVER_ERROR', retriable: true });
    answer = () => ({ status: 400, body: { message: 'nope' } });
    const bad = await new Transport({ url: base }).request('GET', '/v1/x').catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(UnknownServerError);
    expect(bad).toMatchObject({ retriable: false });
  });

  it('a refused connection or a timeout is a retriable NetworkError', async () => {
    const refused = await new Transport({ url: 'http://127.0.0.1:1' }).request('GET', '/v1/cluster').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NetworkError);
    expect(refused).toMatchObject({ retriable: true });
    const slow = new Transport({ url: base, fetch: (_u, init) => new Promise((_r, reject) => init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason))) });
    const timedOut = await slow.request('GET', '/v1/cluster', { timeoutMs: 30 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(NetworkError);
    expect((timedOut as Error).message).toMatch(/no answer within 30 ms/);
  });

  it('an abort by the caller rejects with the caller\'s reason, not a NetworkError', async () => {
    const hang = new Transport({ url: base, fetch: (_u, init) => new Promise((_r, reject) => init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason))) });
    const ac = new AbortController();
    const pending = hang.request('GET', '/v1/cluster', { signal: ac.signal }).catch((e: unknown) => e);
    ac.abort(new Error('closing'));
    expect(((await pending) as Error).message).toBe('closing');
  });
});

describe('auth', () => {
  it('sends a bearer token', async () => {
    await new Transport({ url: base, token: 's3cret' }).request('GET', '/v1/cluster');
    expect(seen[0]!.headers.authorization).toBe('Bearer s3cret');
  });

  it('signs with SigV4 for execute-api: method, path, query and body are covered', async () => {
    const t = new Transport({ url: base, sigv4: { region: 'eu-west-1', credentials: KEYS } });
    await t.request('POST', '/v1/topics/orders/records', { body: { records: [{ value: 1 }] }, query: { x: 'a b' } });
    const s = seen[0]!;
    expect(s.headers.authorization).toMatch(/Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/);
    expect(s.headers['x-amz-content-sha256'] ?? s.headers['x-amz-date']).toBeDefined();
    expect(await signatureValid(s)).toBe(true);
    expect(await signatureValid(s, 'another secret')).toBe(false);
    expect(await signatureValid({ ...s, body: s.body.replace('1', '2') })).toBe(false);
    expect(await signatureValid({ ...s, url: new URL('http://x/v1/topics/other/records?x=a+b') })).toBe(false);
  });

  it('passes session tokens, and takes credentials from a provider function', async () => {
    const t = new Transport({ url: base, sigv4: { region: 'us-east-1', credentials: async () => ({ ...KEYS, sessionToken: 'session-1' }) } });
    await t.request('GET', '/v1/cluster');
    expect(seen[0]!.headers['x-amz-security-token']).toBe('session-1');
    expect(await signatureValid(seen[0]!)).toBe(true);
  });

  it("uses the AWS SDK's default credential chain when no credentials are given", async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'AKIDFROMENV';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret-from-env';
    try {
      await new Transport({ url: base, sigv4: { region: 'us-east-1' } }).request('GET', '/v1/cluster');
      expect(seen[0]!.headers.authorization).toContain('Credential=AKIDFROMENV/');
      expect(await signatureValid(seen[0]!, 'secret-from-env')).toBe(true);
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  it("with a token AND sigv4 (auth 'both'), the token goes in X-Sluice-Token, covered by the signature", async () => {
    await new Transport({ url: base, token: 'slc_abc', sigv4: { region: 'us-east-1', credentials: KEYS } }).request('GET', '/v1/cluster');
    const s = seen[0]!;
    expect(s.headers['x-sluice-token']).toBe('slc_abc');
    expect(String(s.headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 .*SignedHeaders=[^,]*x-sluice-token/);
    expect(await signatureValid(s)).toBe(true);
    expect(await signatureValid({ ...s, headers: { ...s.headers, 'x-sluice-token': 'slc_other' } })).toBe(false);
  });

  it('refuses a URL without a scheme', () => {
    expect(() => new Transport({ url: 'localhost:8080' })).toThrow(/http/);
  });
});

describe('failures a user has to act on', () => {
  it('names the URL and the system error when the server cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await new Transport({ url: `http://127.0.0.1:${port}` }).request('GET', '/v1/topics').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toBe(`GET http://127.0.0.1:${port}/v1/topics: fetch failed (ECONNREFUSED)`);
  });

  it('turns missing SigV4 credentials into one CREDENTIALS_UNAVAILABLE error that says what to set', async () => {
    const t = new Transport({ url: base, sigv4: { region: 'us-east-1', credentials: async () => { throw new Error('Could not load credentials from any providers'); } } });
    const err = await t.request('GET', '/v1/cluster').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceClientError);
    expect(err).toMatchObject({ code: 'CREDENTIALS_UNAVAILABLE', retriable: false });
    expect((err as Error).message).toMatch(/AWS_PROFILE/);
    expect(seen).toHaveLength(0); // nothing unsigned was sent
  });
});
