/**
 * Lambda entry point of the streaming endpoint (the construct's StreamFunction, behind a
 * Function URL in RESPONSE_STREAM mode): the same Hono app as functions/api, exported through
 * hono/aws-lambda's `streamHandle` (`awslambda.streamifyResponse`), so an answer is written to
 * the client as it is produced. `streaming: true` tells the SSE route (lib/api/routes/sse.ts)
 * that it runs behind this adapter and may answer `live=sse`; the buffering API function
 * leaves it off and keeps refusing it. docs/STREAMING.md "On AWS".
 *
 * Metrics are flushed when the app has answered (headers), not when the stream ends: the
 * streamifyResponse handler cannot be wrapped without losing the runtime's marker, so what a
 * stream counts later is flushed with the next invocation.
 */
import { streamHandle } from 'hono/aws-lambda';
import { createApp } from '../../lib/api/app.ts';
import { backendFromEnv, depsFor } from '../../lib/env.ts';
import { lambdaObservability } from '../../lib/observability/powertools.ts';

const { metrics, logger, wrap } = lambdaObservability('api');
const app = createApp({ ...depsFor(backendFromEnv(process.env), process.env), metrics, logger }, undefined, { streaming: true });
type StreamEnv = { event: unknown; requestContext: unknown; context: unknown };
// observed(): the logger learns the invocation's context (streamHandle passes it as env.context).
const answer = wrap((call: { req: Request; env: StreamEnv }, _context: unknown) => Promise.resolve(app.fetch(call.req, call.env)));
export const handler = streamHandle({
  fetch: (req: Request, env: StreamEnv) => answer({ req, env }, env.context),
} as unknown as typeof app);
