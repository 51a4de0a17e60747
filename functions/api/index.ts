/**
 * Lambda entry point of the HTTP API: the same Hono app as `sluice dev`, behind API Gateway
 * (HTTP API, payload format 2.0). Deps are built once per cold start from the environment the
 * CDK stack sets (lib/env.ts): backend, names, endpoints, tuning. A missing variable fails the
 * cold start, not each request.
 */
import { handle } from 'hono/aws-lambda';
import { createApp } from '../../lib/api/app.ts';
import { backendFromEnv, depsFor } from '../../lib/env.ts';

export const handler = handle(createApp(depsFor(backendFromEnv(process.env), process.env)));
