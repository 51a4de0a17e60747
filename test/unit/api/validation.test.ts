import { describe, expect, it } from 'vitest';
import { assertPathDecodes } from '../../../lib/api/validation.ts';
import { codeOf } from '../../support/error-code.ts';

describe('path segments must percent-decode to UTF-8', () => {
  it.each([
    '/v1/groups/plain',
    '/v1/groups/caf%C3%A9',
    '/v1/groups/%25FF', // a group literally named "%FF"
    '/v1/groups/a%2Fb',
    '/v1/groups/%F0%9F%98%80/offsets',
    '/v1/topics/t/partitions/0/records?offset=%FF', // the query is not the path
  ])('accepts %s', (path) => {
    expect(codeOf(() => assertPathDecodes(`http://localhost${path}`))).toBeUndefined();
  });

  it.each([
    '/v1/groups/%FF',
    '/v1/groups/%C3',
    '/v1/topics/%E0%80%80', // overlong encoding
    '/v1/groups/%ED%A0%80/heartbeat', // an encoded lone surrogate
    '/v1/groups/100%',
    '/v1/groups/%zz',
  ])('refuses %s with INVALID_REQUEST', (path) => {
    expect(codeOf(() => assertPathDecodes(`http://localhost${path}`))).toBe('INVALID_REQUEST');
  });
});
