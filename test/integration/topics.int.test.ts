import { describe } from 'vitest';
import { registerTopicScenarios } from '../support/scenarios/topics.ts';
import { stackDeps } from '../support/stack.ts';

describe('topics API on the emulator stack', () => registerTopicScenarios(() => stackDeps()));
