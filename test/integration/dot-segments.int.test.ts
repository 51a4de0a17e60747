/**
 * Paths with `.` or `..` segments, as the node server (`sluice dev`) receives them on the
 * request line. `fetch` and `new URL` resolve such segments before sending, so the raw request
 * is written with node:http: the app must refuse it, not serve the route it resolves to (an
 * IAM grant on `/v1/topics/orders*` must not reach `/v1/tokens`). The Lambda side is in
 * lambda-handler.int.test.ts.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serveApp, type ServedApp } from '../support/http-server.ts';
import { stackApp } from '../support/stack.ts';

let served: ServedApp;
beforeAll(async () => {
  served = await serveApp(stackApp());
});
afterAll(() => served.close());

function rawGet(path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(served.base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

it('refuses . and .. segments, plain or percent-encoded, instead of serving the route they resolve to', async () => {
  for (const path of ['/v1/topics/orders/%2e%2e/%2e%2e/tokens', '/v1/topics/orders/../../cluster', '/v1/topics/orders/%2E%2e/x', '/v1/./cluster']) {
    const res = await rawGet(path);
    expect(res.status, path).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe('INVALID_REQUEST');
  }
  expect((await rawGet('/v1/cluster')).status).toBe(200);
});
