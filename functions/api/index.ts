/**
 * Lambda entry point of the HTTP API: the same Hono app as `sluice dev`, behind API Gateway
 * (HTTP API, payload format 2.0). Deps are built once per cold start from the environment the
 * CDK stack sets (lib/env.ts): backend, names, endpoints, tuning. A missing variable fails the
 * cold start, not each request. Powertools logs (JSON with the request id) and metrics (EMF,
 * flushed once per invocation) come from lib/observability.
 */
import { handle } from 'hono/aws-lambda';
import { createApp } from '../../lib/api/app.ts';
import { backendFromEnv, depsFor } from '../../lib/env.ts';
import { lambdaObservability } from '../../lib/observability/powertools.ts';

const { metrics, logger, wrap } = lambdaObservability('api');
export const handler = wrap(handle(createApp({ ...depsFor(backendFromEnv(process.env), process.env), metrics, logger })));
