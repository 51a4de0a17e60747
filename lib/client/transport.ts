/**
 * The client's one way to the server: a JSON request over `fetch` (Node 20+, Lambda and
 * browsers alike), authorised by a bearer token or signed with SigV4 for an HTTP API with IAM
 * auth, answered as parsed JSON or thrown as the typed error of its code (errors.ts).
 *
 * No retries here: the callers know what is safe to repeat (the producer retries with its
 * sequence, the consumer re-polls); `withRetries` (retry.ts) is theirs to use.
 */
import { defaultCredentials } from './default-credentials.ts';
import { NetworkError, SluiceClientError, errorFromBody } from './errors.ts';

/** AWS credentials, or a provider of them (the SDK's `AwsCredentialIdentityProvider` shape). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}
export type CredentialsOrProvider = AwsCredentials | (() => Promise<AwsCredentials>);

export interface SigV4Options {
  readonly region: string;
  /** Default: the AWS SDK's default credential chain (env, shared files, SSO, IMDS, ...; Node only). */
  readonly credentials?: CredentialsOrProvider;
  /** Default `execute-api` (API Gateway). */
  readonly service?: string;
}

export interface ConnectionOptions {
  /** Base URL of the API, e.g. `http://localhost:8080` or the stack's `ApiUrl` output. */
  readonly url: string;
  /** Bearer token (`Authorization: Bearer …`; with `sigv4` too, sent as `X-Sluice-Token`). */
  readonly token?: string;
  /** Sign every request with SigV4 (API Gateway HTTP API with IAM authorisation). */
  readonly sigv4?: SigV4Options;
  /** The fetch to use; default the global one. Tests wrap it to inject faults. */
  readonly fetch?: typeof fetch;
  /** A request without an answer after this long is aborted (NetworkError, retriable). Default 30 s. */
  readonly requestTimeoutMs?: number;
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  /** Aborts the request (e.g. on close); the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Overrides the connection's request timeout (a long poll needs its wait plus a margin). */
  readonly timeoutMs?: number;
}

type Signer = (req: { method: string; url: URL; headers: Record<string, string>; body: string | undefined }) => Promise<Record<string, string>>;

export class Transport {
  readonly url: string;
  readonly #fetch: typeof fetch;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  #signer: Promise<Signer> | undefined;
  readonly #sigv4: SigV4Options | undefined;
  /** HTTP requests sent (answered or not): what the client's batching saves is counted here. */
  requests = 0;

  constructor(opts: ConnectionOptions) {
    if (!/^https?:\/\//i.test(opts.url)) throw new TypeError(`url must start with http:// or https://, got '${opts.url}'`);
    this.url = opts.url.replace(/\/+$/, '');
    this.#fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.#token = opts.token;
    this.#sigv4 = opts.sigv4;
    this.#timeoutMs = opts.requestTimeoutMs ?? 30_000;
  }

  /** `method path` with a JSON body; answers the parsed JSON ({} for 204), or throws typed. */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.url + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    let headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    // With SigV4 as well (`auth: both`), Authorization carries the signature: the token goes
    // in its own header, which is signed with the rest.
    if (this.#token !== undefined) {
      if (this.#sigv4 === undefined) headers.authorization = `Bearer ${this.#token}`;
      else headers['x-sluice-token'] = this.#token;
    }
    if (this.#sigv4 !== undefined) headers = await this.#sign({ method, url, headers, body });

    const timeout = AbortSignal.timeout(opts.timeoutMs ?? this.#timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    this.requests++;
    let res: Response;
    try {
      res = await this.#fetch(url, { method, headers, body, signal });
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      const message = timeout.aborted ? `${method} ${url.href}: no answer within ${opts.timeoutMs ?? this.#timeoutMs} ms` : `${method} ${url.href}: ${describeFailure(err)}`;
      throw new NetworkError(message, { retriable: true, cause: err });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      throw new NetworkError(`${method} ${path}: the answer was cut off (${(err as Error).message})`, { status: res.status, retriable: true, cause: err });
    }
    let json: unknown = {};
    if (text.length > 0) {
      try {
        json = JSON.parse(text);
      } catch {
        json = { message: text.slice(0, 200) };
      }
    }
    if (!res.ok) throw errorFromBody(res.status, json);
    return json as T;
  }

  /** Signs with SigV4; credentials that cannot be found are a CREDENTIALS_UNAVAILABLE error. */
  async #sign(req: Parameters<Signer>[0]): Promise<Record<string, string>> {
    this.#signer ??= makeSigner(this.#sigv4!);
    try {
      return await (await this.#signer)(req);
    } catch (err) {
      this.#signer = undefined; // a provider that failed (no profile yet, say) is asked again next time
      throw new SluiceClientError(
        'CREDENTIALS_UNAVAILABLE',
        `no AWS credentials to sign with (${(err as Error).message}); set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass sigv4.credentials`,
        { cause: err },
      );
    }
  }
}

/** fetch's own message ("fetch failed") says little; its cause has the system error. */
function describeFailure(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  const message = (err as Error).message ?? String(err);
  return detail && !message.includes(detail) ? `${message} (${detail})` : message;
}

/**
 * A SigV4 signer (AWS's own @smithy/signature-v4 with the pure-JS SHA-256, which runs in
 * browsers too). The default credential chain is loaded only when no credentials are given
 * (default-credentials.ts, swapped out of browser builds).
 */
async function makeSigner(opts: SigV4Options): Promise<Signer> {
  const [{ SignatureV4 }, { Sha256 }] = await Promise.all([import('@smithy/signature-v4'), import('@aws-crypto/sha256-js')]);
  let credentials = opts.credentials;
  credentials ??= await defaultCredentials();
  const signer = new SignatureV4({ credentials, region: opts.region, service: opts.service ?? 'execute-api', sha256: Sha256 });
  return async ({ method, url, headers, body }) => {
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers: { ...headers, host: url.host },
      body,
    });
    // fetch sets Host itself (and refuses to be told); everything else goes as signed.
    const { host: _host, ...rest } = signed.headers;
    return rest;
  };
}
