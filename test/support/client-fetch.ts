/**
 * A fetch for the client under test (`new Sluice({ url, fetch })`) that goes to the real
 * server and records every request, with two fault hooks on the real path:
 *  - `before(req)`: answer instead of the server (a synthetic 503 or 429), or undefined;
 *  - `after(req, res)`: runs once the server has answered (so it has committed whatever the
 *    request did); throwing drops the answer, as a connection reset after the commit would.
 */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly body: any;
  readonly bodyBytes: number;
  status?: number;
}

export interface FetchHooks {
  before?(req: SeenRequest): Response | undefined | Promise<Response | undefined>;
  after?(req: SeenRequest, res: Response): void | Promise<void>;
}

export interface RecordingFetch {
  readonly fetch: typeof fetch;
  readonly seen: SeenRequest[];
  hooks: FetchHooks;
  /** Requests whose method and path match (path as a regex). */
  count(method: string, path: RegExp): number;
  produces(topic?: string): SeenRequest[];
}

export function recordingFetch(hooks: FetchHooks = {}): RecordingFetch {
  const seen: SeenRequest[] = [];
  const rec: RecordingFetch = {
    seen,
    hooks,
    fetch: async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const text = typeof init?.body === 'string' ? init.body : '';
      const req: SeenRequest = {
        method: init?.method ?? 'GET',
        path: url.pathname,
        body: text ? JSON.parse(text) : undefined,
        bodyBytes: new TextEncoder().encode(text).length,
      };
      seen.push(req);
      const synthetic = await rec.hooks.before?.(req);
      if (synthetic) {
        req.status = synthetic.status;
        return synthetic;
      }
      const res = await fetch(input, init);
      req.status = res.status;
      await rec.hooks.after?.(req, res);
      return res;
    },
    count: (method, path) => seen.filter((r) => r.method === method && path.test(r.path)).length,
    produces: (topic) => seen.filter((r) => r.method === 'POST' && /^\/v1\/topics\/[^/]+\/records$/.test(r.path) && (topic === undefined || r.path === `/v1/topics/${topic}/records`)),
  };
  return rec;
}

/** An API error answer, as the server would send it. */
export function errorResponse(status: number, code: string, retriable: boolean): Response {
  return new Response(JSON.stringify({ error: { code, message: `injected ${code}`, retriable } }), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}
