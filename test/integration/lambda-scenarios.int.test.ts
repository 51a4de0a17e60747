/**
 * The full topic and log scenarios through the Lambda adapter (`hono/aws-lambda` handle(),
 * API Gateway HTTP API v2 events), against the emulators: what the deployed function serves
 * must answer exactly as the dev server does.
 */
import { handle } from 'hono/aws-lambda';
import { describe } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { lambdaAsApp, type LambdaHandler } from '../support/lambda-app.ts';
import { registerAllScenarios } from '../support/scenarios/index.ts';
import { stackDeps } from '../support/stack.ts';

describe('topic and log scenarios through the Lambda handler', () =>
  registerAllScenarios(() => stackDeps(), (deps) => lambdaAsApp(handle(createApp(deps)) as unknown as LambdaHandler)));
