import { describe } from 'vitest';
import { registerGroupScenarios } from '../support/scenarios/groups.ts';
import { stackDeps } from '../support/stack.ts';

describe('consumer groups on the emulator stack', () => registerGroupScenarios(() => stackDeps()));
