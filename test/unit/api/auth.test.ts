import { describe, expect, it } from 'vitest';
import { bearerToken, createApp } from '../../../lib/api/app.ts';
import { randomIds, systemClock } from '../../../lib/deps.ts';
import { createAwsClients } from '../../../lib/storage/clients.ts';
import { resourceNames } from '../../../lib/storage/tables.ts';
import { quietLogger } from '../../support/logger.ts';

describe('bearerToken', () => {
  it('takes the scheme in any case and the token as it is', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) expect(bearerToken(`${scheme} T0k.en`)).toBe('T0k.en');
  });

  it('refuses other schemes, a missing token and trailing words', () => {
    for (const header of [undefined, '', 'Basic abc', 'Bearer', 'Bearer ', 'Bearer a b', 'abc', 'Bearerabc']) {
      expect(bearerToken(header), String(header)).toBeUndefined();
    }
  });
});

describe('the token check on /v1', () => {
  // GET /v1/cluster touches no storage: the clients point nowhere and are never called.
  const app = createApp({
    clients: createAwsClients({ dynamoEndpoint: 'http://127.0.0.1:9', s3Endpoint: 'http://127.0.0.1:9', region: 'us-east-1', dummyCredentials: true }),
    names: resourceNames('unit'),
    clock: systemClock,
    ids: randomIds,
    logger: quietLogger,
    backend: 'local',
    authToken: 's3cret',
  });
  const status = async (authorization?: string) =>
    (await app.request('/v1/cluster', authorization === undefined ? {} : { headers: { authorization } })).status;

  it('accepts `bearer` in lower case as well as `Bearer`', async () => {
    expect(await status('Bearer s3cret')).toBe(200);
    expect(await status('bearer s3cret')).toBe(200);
  });

  it('answers 401 without the exact token', async () => {
    expect(await status()).toBe(401);
    expect(await status('bearer S3CRET')).toBe(401);
  });
});
