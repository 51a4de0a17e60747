import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SLUICE_VERSION } from '../../lib/version.ts';

describe('version', () => {
  it('matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(SLUICE_VERSION).toBe(pkg.version);
  });
});
