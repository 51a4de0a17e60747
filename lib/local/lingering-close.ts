/**
 * Lingering close for the HTTP/1.1 server of `sluice dev` (Apache's and nginx's
 * `lingering_close`). Sluice answers some requests before reading their body: a 413 for a
 * declared Content-Length over the limit. Node then closes the connection if the client sent
 * `Connection: close` (or @hono/node-server gives up draining it after 500 ms), and closing a
 * socket with unread bytes makes the kernel send a reset: a client still sending sees EPIPE
 * or ECONNRESET, and may lose the 413 it was already sent.
 *
 * So a close requested while the current request's body is still arriving is deferred: the
 * rest of the body is read and discarded (Node's parser dumps it) until it ends, the client
 * goes away, or a bound is hit (about `maxBytes` more bytes, checked every 20 ms, or
 * `maxMs`); only then is the socket closed. Past a bound the reset happens as before, so a
 * client cannot hold a connection open forever.
 */
import { Server as HttpServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export interface LingerLimits {
  /** Unread body bytes read and discarded at most before closing anyway. */
  readonly maxBytes: number;
  /** How long at most a close waits for the body to end. */
  readonly maxMs: number;
}

/** 64 MiB as @hono/node-server's own drain; 5 s covers that on any local connection. */
export const DEFAULT_LINGER_LIMITS: LingerLimits = { maxBytes: 64 * 1024 * 1024, maxMs: 5_000 };

/** `socket.destroySoon()` is what Node's HTTP server (and @hono/node-server) close with. */
type ClosableSocket = Socket & { destroySoon?: () => void };

/** Defers every connection close of `server` until the current request body is read (bounded). */
export function lingerBeforeClose(server: unknown, limits: LingerLimits = DEFAULT_LINGER_LIMITS): void {
  if (!(server instanceof HttpServer)) return; // HTTP/2 closes streams, not connections
  const current = new WeakMap<Socket, IncomingMessage>();
  const lingering = new WeakSet<Socket>();
  server.on('request', (req: IncomingMessage) => {
    current.set(req.socket, req);
  });
  server.on('connection', (socket: ClosableSocket) => {
    const destroySoon = socket.destroySoon?.bind(socket);
    if (!destroySoon) return;
    socket.destroySoon = () => {
      const req = current.get(socket);
      if (!req || req.complete || socket.destroyed) destroySoon();
      else if (!lingering.has(socket)) {
        // Both Node and @hono/node-server may ask; the first one lingers, the rest wait for it.
        lingering.add(socket);
        linger(socket, req, limits, destroySoon);
      }
    };
  });
}

/** How often a lingering socket's byte count is checked against `maxBytes`. */
const LINGER_CHECK_MS = 20;

function linger(socket: Socket, req: IncomingMessage, limits: LingerLimits, close: () => void): void {
  // Node's parser reads the socket natively and drops a dumped body without emitting 'data'
  // (a 'data' listener on the socket would take the socket from the parser), so the bytes
  // discarded are counted from socket.bytesRead.
  const startBytes = socket.bytesRead;
  let finished = false;
  const finish = (closeNow: boolean): void => {
    if (finished) return;
    finished = true;
    clearTimeout(deadline);
    clearInterval(check);
    req.off('end', onEnd);
    socket.off('close', onClose);
    if (closeNow) close();
  };
  const onEnd = (): void => finish(true);
  const onClose = (): void => finish(false);
  const deadline = setTimeout(() => finish(true), limits.maxMs);
  const check = setInterval(() => {
    if (socket.bytesRead - startBytes > limits.maxBytes) finish(true);
  }, LINGER_CHECK_MS);
  deadline.unref();
  check.unref();
  req.once('end', onEnd);
  socket.once('close', onClose);
  // Node dumps an unread body once the answer is sent; resuming makes sure it flows.
  req.resume();
}
