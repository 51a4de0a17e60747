import { describe } from 'vitest';
import { registerLogScenarios } from '../support/scenarios/log.ts';
import { stackDeps } from '../support/stack.ts';

describe('produce and fetch on the emulator stack', () => registerLogScenarios(() => stackDeps()));
