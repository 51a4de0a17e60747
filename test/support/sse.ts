/**
 * A small Server-Sent Events client for tests: a parser of the event stream format (WHATWG
 * HTML "Interpreting an event stream": fields, multi-line data, comments, CRLF) and a reader
 * over a real HTTP response from fetch().
 *
 *   const s = await openSse(`${base}/v1/topics/t/partitions/0/records?live=sse`);
 *   const e = await s.next();      // { event: 'records', data: '…', id: '3' }, or undefined at the end
 *   s.close();
 */

export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
  readonly retry?: number;
}

/** Feed it text as it arrives; it answers the events completed by that text. */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private retry: number | undefined;

  push(text: string): SseEvent[] {
    this.buffer += text;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (m === null || (m[0] === '\r' && m.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const done = this.line(line);
      if (done) out.push(done);
    }
    return out;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      if (this.data.length === 0 && this.event === '') return undefined;
      const e: SseEvent = {
        event: this.event || 'message',
        data: this.data.join('\n'),
        ...(this.id !== undefined ? { id: this.id } : {}),
        ...(this.retry !== undefined ? { retry: this.retry } : {}),
      };
      this.event = '';
      this.data = [];
      this.id = undefined;
      this.retry = undefined;
      return e;
    }
    if (line.startsWith(':')) return undefined; // a comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return undefined;
  }
}

export interface SseStream {
  readonly status: number;
  readonly headers: Headers;
  /** The next event; undefined once the server ended the stream. Fails after `timeoutMs`. */
  next(timeoutMs?: number): Promise<SseEvent | undefined>;
  /** Every event until the server ends the stream. */
  rest(timeoutMs?: number): Promise<SseEvent[]>;
  /** Goes away, as a closed browser tab does: the connection is dropped. */
  close(): void;
}

/** Opens `url`; the caller checks `status` (an error before the stream is a JSON answer). */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream & { readonly response: Response }> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const parser = new SseParser();
  const queued: SseEvent[] = [];
  // Taken on the first next(): until then `response` can still be read as JSON (an error answer).
  let taken: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const reader = () => (taken ??= response.body!.getReader());
  const decoder = new TextDecoder();
  let ended = false;
  // A read that a timeout left pending is kept for the next call, so no chunk is lost.
  let pending: ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']> | undefined;

  const next = async (timeoutMs = 30_000): Promise<SseEvent | undefined> => {
    const giveUp = Date.now() + timeoutMs;
    while (queued.length === 0 && !ended) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no SSE event within ${timeoutMs} ms`)), Math.max(0, giveUp - Date.now()));
      });
      try {
        pending ??= reader().read();
        const { done, value } = await Promise.race([pending, timeout]);
        pending = undefined;
        if (done) ended = true;
        else queued.push(...parser.push(decoder.decode(value, { stream: true })));
      } finally {
        clearTimeout(timer);
      }
    }
    return queued.shift();
  };

  return {
    response,
    status: response.status,
    headers: response.headers,
    next,
    rest: async (timeoutMs = 60_000) => {
      const giveUp = Date.now() + timeoutMs;
      const all: SseEvent[] = [];
      for (let e = await next(timeoutMs); e !== undefined; e = await next(Math.max(1, giveUp - Date.now()))) all.push(e);
      return all;
    },
    close: () => {
      ended = true;
      pending?.catch(() => undefined);
      abort.abort();
      if (taken !== undefined) taken.cancel().catch(() => undefined);
      else response.body?.cancel().catch(() => undefined);
    },
  };
}
