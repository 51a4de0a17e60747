/**
 * Presents a Lambda handler as something with `request(path, init)`, like a Hono app, so the
 * same scenarios can run through the Lambda entry: each request becomes an API Gateway HTTP
 * API v2 event, each result becomes a Response.
 */
import { apiGatewayV2Event, lambdaContext } from './apigw-event.ts';

interface LambdaResult {
  statusCode: number;
  body?: string;
  isBase64Encoded?: boolean;
  headers?: Record<string, string>;
}

export type LambdaHandler = (event: any, context: any) => Promise<LambdaResult>;

export interface RequestTarget {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

export function lambdaAsApp(handler: LambdaHandler): RequestTarget {
  return {
    async request(path, init = {}) {
      const url = new URL(path, 'https://example.invalid');
      const headers = Object.fromEntries(new Headers(init.headers).entries());
      const body = typeof init.body === 'string' ? init.body : undefined;
      const event = apiGatewayV2Event({
        method: init.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams.entries()),
        headers,
        body,
      });
      const res = await handler(event, lambdaContext());
      const text = res.body === undefined ? '' : res.isBase64Encoded ? Buffer.from(res.body, 'base64').toString('utf8') : res.body;
      return new Response(res.statusCode === 204 ? null : text, { status: res.statusCode, headers: res.headers });
    },
  };
}
