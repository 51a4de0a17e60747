import { describe } from 'vitest';
import { registerExactlyOnceScenarios } from '../support/scenarios/exactly-once.ts';
import { stackDeps } from '../support/stack.ts';

describe('exactly-once on the emulator stack', () => registerExactlyOnceScenarios(() => stackDeps()));
