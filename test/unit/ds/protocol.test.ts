/**
 * lib/ds/protocol.ts against the Durable Streams protocol text: offsets (section 8), header
 * validation (5.1, 5.2, 5.2.1, 4.1, 4.2), content types and SSE encoding (9, 5.8) and
 * server-generated cursors (10.1).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BEYOND,
  closedHeader,
  createContentType,
  decodeOffset,
  DsRequestError,
  encodeOffset,
  H,
  isJson,
  mediaType,
  parseExpiresAt,
  parseOffsetParam,
  parseProducerHeaders,
  parseSubOffset,
  parseTtl,
  responseCursor,
  sseBase64,
} from '../../../lib/ds/protocol.ts';

/** Runs `fn` and returns the DsRequestError it throws (fails the test if it throws nothing else). */
function requestError(fn: () => unknown): DsRequestError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(DsRequestError);
  return thrown as DsRequestError;
}

const expect400 = (fn: () => unknown) => expect(requestError(fn).status).toBe(400);

const safeNat = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

describe('header names (section 13.2 / 5.x)', () => {
  it('spells the protocol headers exactly', () => {
    expect(H).toMatchObject({
      nextOffset: 'Stream-Next-Offset',
      upToDate: 'Stream-Up-To-Date',
      closed: 'Stream-Closed',
      cursor: 'Stream-Cursor',
      seq: 'Stream-Seq',
      ttl: 'Stream-TTL',
      expiresAt: 'Stream-Expires-At',
      forkedFrom: 'Stream-Forked-From',
      forkOffset: 'Stream-Fork-Offset',
      forkSubOffset: 'Stream-Fork-Sub-Offset',
      producerId: 'Producer-Id',
      producerEpoch: 'Producer-Epoch',
      producerSeq: 'Producer-Seq',
      expectedSeq: 'Producer-Expected-Seq',
      receivedSeq: 'Producer-Received-Seq',
    });
    expect(H.sseEncoding.toLowerCase()).toBe('stream-sse-data-encoding');
  });
});

describe('offset tokens (section 8)', () => {
  it('encodes a position as 16 zero digits, an underscore and the zero-padded position', () => {
    expect(encodeOffset(0)).toBe('0000000000000000_0000000000000000');
    expect(encodeOffset(42)).toBe('0000000000000000_0000000000000042');
    expect(encodeOffset(Number.MAX_SAFE_INTEGER)).toBe('0000000000000000_9007199254740991');
  });

  it('never mints a sentinel or a character the protocol forbids in offsets', () => {
    fc.assert(
      fc.property(safeNat, (n) => {
        const token = encodeOffset(n);
        expect(token).not.toBe('-1');
        expect(token).not.toBe('now');
        expect(token).not.toMatch(/[,&=?/]/);
        expect(token.length).toBeLessThan(256);
        expect(encodeURIComponent(token)).toBe(token);
      }),
    );
  });

  it('round-trips every safe non-negative position', () => {
    fc.assert(
      fc.property(safeNat, (n) => {
        expect(decodeOffset(encodeOffset(n))).toBe(n);
      }),
    );
  });

  it('sorts lexicographically exactly as positions sort numerically', () => {
    fc.assert(
      fc.property(safeNat, safeNat, (a, b) => {
        const ta = encodeOffset(a);
        const tb = encodeOffset(b);
        expect(Math.sign(ta < tb ? -1 : ta > tb ? 1 : 0)).toBe(Math.sign(a - b));
      }),
    );
    // the classic trap of unpadded numbers: 9 < 10 numerically, '9' > '10' as text
    expect(encodeOffset(9) < encodeOffset(10)).toBe(true);
  });

  it('reads a token whose first part is not zero as beyond every tail', () => {
    const beyond = decodeOffset('0000000000000001_0000000000000000');
    expect(beyond).toBe(BEYOND);
    expect(beyond).toBeGreaterThan(decodeOffset(encodeOffset(Number.MAX_SAFE_INTEGER - 1)));
  });

  it.each([
    ['empty', ''],
    ['a word', 'abc'],
    ['a sentinel given to the token decoder', '-1'],
    ['a leading space', ' 0000000000000000_0000000000000001'],
    ['a trailing space', '0000000000000000_0000000000000001 '],
    ['an inner space', '0000000000000000 _0000000000000001'],
    ['a comma list', '0000000000000000_0000000000000001,0000000000000000_0000000000000002'],
    ['a slash', '0000000000000000/0000000000000001'],
    ['a path-like token', '0000000000000000_0000000000000001/x'],
    ['a hex digit', '0000000000000000_000000000000000a'],
    ['a negative position', '0000000000000000_-000000000000001'],
    ['17 digits', '0000000000000000_00000000000000001'],
    ['no separator', '00000000000000000000000000000001'],
    ['two separators', '0000000000000000_0000000000000001_0'],
  ])('refuses %s with 400 (no guessing)', (_what, token) => {
    expect400(() => decodeOffset(token));
  });

  it('names what was being parsed in the reason', () => {
    expect(requestError(() => decodeOffset('x', 'Stream-Fork-Offset')).message).toContain('Stream-Fork-Offset');
  });
});

describe('offset query parameter (sections 5.6, 8)', () => {
  it('reads absent and -1 as the stream beginning', () => {
    expect(parseOffsetParam([])).toEqual({ kind: 'start' });
    expect(parseOffsetParam(['-1'])).toEqual({ kind: 'start' });
  });

  it('reads now as the tail', () => {
    expect(parseOffsetParam(['now'])).toEqual({ kind: 'now' });
  });

  it('reads a token as its position', () => {
    expect(parseOffsetParam([encodeOffset(7)])).toEqual({ kind: 'at', position: 7 });
  });

  it.each([
    ['empty', ['']],
    ['given twice', [encodeOffset(1), encodeOffset(2)]],
    ['given twice even when equal', ['-1', '-1']],
    ['NOW (tokens are case-sensitive)', ['NOW']],
    ['now with a space', ['now ']],
    ['-2', ['-2']],
    ['with spaces', [' 0000000000000000_0000000000000001']],
    ['a comma list', ['0000000000000000_0000000000000001,0000000000000000_0000000000000002']],
    ['with a slash', ['0000000000000000_0000000000000001/']],
  ])('refuses %s with 400', (_what, values) => {
    expect400(() => parseOffsetParam(values));
  });
});

describe('Stream-Closed (section 4.1)', () => {
  it.each(['true', 'TRUE', 'True', 'tRuE'])('is present for %j', (v) => {
    expect(closedHeader(v)).toBe(true);
  });

  it.each([undefined, 'false', 'yes', '1', '', 'truee', 'true,true'])('is absent (not an error) for %j', (v) => {
    expect(closedHeader(v)).toBe(false);
  });
});

describe('Stream-TTL (section 5.1)', () => {
  it('is optional', () => {
    expect(parseTtl(undefined)).toBeUndefined();
  });

  it.each([
    ['0', 0],
    ['1', 1],
    ['3600', 3600],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
  ])('accepts %j', (v, n) => {
    expect(parseTtl(v)).toBe(n);
  });

  it.each([
    // the protocol's own counter-examples
    '+3600',
    '03600',
    '3600.0',
    '3.6e3',
    // and the brief's
    '+1',
    '01',
    '00',
    '1.0',
    '1e3',
    '-1',
    '',
    ' 1',
    '1 ',
    '0x10',
    'abc',
    '1_000',
    '١٢', // Arabic-Indic digits are not decimal notation here
    '9007199254740992', // past 2^53-1: not exactly representable
    '99999999999999999999',
  ])('refuses %j with 400', (v) => {
    const err = requestError(() => parseTtl(v));
    expect(err.status).toBe(400);
    expect(err.message).toContain('Stream-TTL');
  });

  it('accepts every canonical decimal rendering of a safe integer, and it alone', () => {
    fc.assert(
      fc.property(safeNat, (n) => {
        expect(parseTtl(String(n))).toBe(n);
        expect400(() => parseTtl(`0${n}`));
        expect400(() => parseTtl(`+${n}`));
        expect400(() => parseTtl(`${n}.0`));
      }),
    );
  });
});

describe('Stream-Expires-At (section 5.1, RFC 3339)', () => {
  it('is optional', () => {
    expect(parseExpiresAt(undefined)).toBeUndefined();
  });

  it('keeps the raw value and gives its instant in epoch ms', () => {
    expect(parseExpiresAt('2025-01-01T00:00:00Z')).toEqual({ raw: '2025-01-01T00:00:00Z', ms: Date.UTC(2025, 0, 1) });
  });

  it('applies a numeric offset and fractional seconds', () => {
    // 02:30:00.250+02:00 is 00:30:00.250 UTC
    expect(parseExpiresAt('2025-06-15T02:30:00.250+02:00')?.ms).toBe(Date.UTC(2025, 5, 15, 0, 30, 0, 250));
    expect(parseExpiresAt('2025-06-15T00:00:00-05:00')?.ms).toBe(Date.UTC(2025, 5, 15, 5));
  });

  it('accepts the lower-case t and z RFC 3339 allows', () => {
    expect(parseExpiresAt('2025-01-01t00:00:00z')?.ms).toBe(Date.UTC(2025, 0, 1));
  });

  it.each([
    'tomorrow',
    '',
    '2025-01-01', // a date, not a date-time
    '2025-01-01T00:00:00', // no offset: not an instant
    '2025-01-01T00:00Z', // seconds are required
    '1735689600', // epoch seconds
    'Wed, 01 Jan 2025 00:00:00 GMT', // an HTTP date, not RFC 3339
    '2025-13-01T00:00:00Z',
    '2025-01-01T25:00:00Z',
    '2025-01-01T00:60:00Z',
    '2025-01-01T00:00:00+2:00',
    ' 2025-01-01T00:00:00Z',
    '2025-01-01T00:00:00Z ',
  ])('refuses %j with 400', (v) => {
    const err = requestError(() => parseExpiresAt(v));
    expect(err.status).toBe(400);
    expect(err.message).toContain('Stream-Expires-At');
  });
});

describe('producer headers (section 5.2.1)', () => {
  it('are absent when none is given', () => {
    expect(parseProducerHeaders(undefined, undefined, undefined)).toBeUndefined();
  });

  it('parse when all three are given', () => {
    expect(parseProducerHeaders('order-service-1', '0', '0')).toEqual({ id: 'order-service-1', epoch: 0, seq: 0 });
    expect(parseProducerHeaders('p', '3', '17')).toEqual({ id: 'p', epoch: 3, seq: 17 });
  });

  it('accept 2^53-1, the protocol maximum', () => {
    expect(parseProducerHeaders('p', '9007199254740991', '9007199254740991')).toEqual({
      id: 'p',
      epoch: Number.MAX_SAFE_INTEGER,
      seq: Number.MAX_SAFE_INTEGER,
    });
  });

  it.each([
    ['id only', 'p', undefined, undefined],
    ['epoch only', undefined, '0', undefined],
    ['seq only', undefined, undefined, '0'],
    ['id and epoch', 'p', '0', undefined],
    ['id and seq', 'p', undefined, '0'],
    ['epoch and seq', undefined, '0', '0'],
  ])('refuse a partial set (%s) with 400', (_what, id, epoch, seq) => {
    expect400(() => parseProducerHeaders(id, epoch, seq));
  });

  it('refuse an empty Producer-Id with 400', () => {
    expect400(() => parseProducerHeaders('', '0', '0'));
  });

  it.each(['', '-1', '1.5', '1.0', '1e3', 'abc', ' 1', '1 ', '+1', '0x1', '9007199254740992', '18446744073709551615'])(
    'refuse a non-integer or out-of-range value %j in either number with 400',
    (bad) => {
      expect400(() => parseProducerHeaders('p', bad, '0'));
      expect400(() => parseProducerHeaders('p', '0', bad));
    },
  );

  it('round-trip any safe non-negative epoch and seq', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), safeNat, safeNat, (id, epoch, seq) => {
        expect(parseProducerHeaders(id, String(epoch), String(seq))).toEqual({ id, epoch, seq });
      }),
    );
  });
});

describe('Stream-Fork-Sub-Offset (section 4.2)', () => {
  it('is optional', () => {
    expect(parseSubOffset(undefined)).toBeUndefined();
  });

  it.each([
    ['0', 0],
    ['5', 5],
    ['1048576', 1048576],
  ])('accepts the non-negative integer %j', (v, n) => {
    expect(parseSubOffset(v)).toBe(n);
  });

  it.each(['-1', '', '1.5', 'abc', '1e2', '+1', '9007199254740992'])('refuses malformed or negative %j with 400', (v) => {
    const err = requestError(() => parseSubOffset(v));
    expect(err.status).toBe(400);
    expect(err.message).toContain('Stream-Fork-Sub-Offset');
  });
});

describe('content types (sections 5.1, 5.2, 9)', () => {
  it('compares media types without parameters and case', () => {
    expect(mediaType('Application/JSON; charset=utf-8')).toBe('application/json');
    expect(mediaType('  text/plain  ')).toBe('text/plain');
    expect(mediaType('text/plain;charset=us-ascii')).toBe(mediaType('TEXT/PLAIN'));
    expect(mediaType('application/ndjson')).not.toBe(mediaType('application/json'));
  });

  it('sets a PUT content type only from a header naming a media type', () => {
    expect(createContentType(undefined)).toBeUndefined();
    expect(createContentType('')).toBeUndefined();
    expect(createContentType('   ')).toBeUndefined();
    expect(createContentType('garbage')).toBeUndefined();
    expect(createContentType('/json')).toBeUndefined();
    expect(createContentType(' application/json ')).toBe('application/json');
    expect(createContentType('text/plain; charset=utf-8')).toBe('text/plain; charset=utf-8');
    expect(createContentType('application/vnd.example+json')).toBe('application/vnd.example+json');
  });

  it('treats application/json (any case, any parameters) as JSON mode, and nothing else', () => {
    expect(isJson('application/json')).toBe(true);
    expect(isJson('APPLICATION/JSON; charset=utf-8')).toBe(true);
    expect(isJson('application/ndjson')).toBe(false);
    expect(isJson('application/json-seq')).toBe(false);
    expect(isJson('text/json')).toBe(false);
    expect(isJson('application/octet-stream')).toBe(false);
  });

  it.each(['text/plain', 'text/html; charset=utf-8', 'TEXT/CSV', 'application/json', 'Application/Json; charset=utf-8'])(
    'sends %s as text over SSE',
    (ct) => {
      expect(sseBase64(ct)).toBe(false);
    },
  );

  it.each(['application/octet-stream', 'application/ndjson', 'application/x-protobuf', 'image/png', 'application/vnd.example+json', 'textual/plain'])(
    'base64-encodes %s over SSE',
    (ct) => {
      expect(sseBase64(ct)).toBe(true);
    },
  );
});

describe('cursors (section 10.1)', () => {
  const EPOCH = Date.UTC(2024, 9, 9); // October 9, 2024 00:00:00 UTC
  const INTERVAL = 20_000;
  const at = (interval: number, intoIt = 0) => EPOCH + interval * INTERVAL + intoIt;
  const noRandom = () => {
    throw new Error('no jitter expected');
  };

  it('is the number of 20 s intervals since 2024-10-09T00:00:00Z', () => {
    expect(responseCursor(EPOCH, undefined, noRandom)).toBe('0');
    expect(responseCursor(at(1000, 19_999), undefined, () => 0)).toBe('1000');
    expect(responseCursor(at(1001), undefined, () => 0)).toBe('1001');
  });

  it('answers the current interval to a client that is behind or sends no number', () => {
    expect(responseCursor(at(1000, 5), '999', () => 0)).toBe('1000');
    expect(responseCursor(at(1000, 5), '0', () => 0)).toBe('1000');
    expect(responseCursor(at(1000, 5), 'abc', () => 0)).toBe('1000');
    expect(responseCursor(at(1000, 5), '', () => 0)).toBe('1000');
  });

  it('moves a client at the current interval strictly forward by 1-3600 s of jitter', () => {
    // the least jitter (1 s) still moves on one interval; the most (3600 s) is 180 intervals
    expect(responseCursor(at(1000, 5), '1000', () => 0)).toBe('1001');
    expect(responseCursor(at(1000, 5), '1000', () => 0.999_999)).toBe('1180');
  });

  it('moves a client ahead of the clock strictly forward too', () => {
    expect(Number(responseCursor(at(1000), '5000', () => 0.5))).toBeGreaterThan(5000);
  });

  it('never goes back and never repeats a current-or-ahead client cursor', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: INTERVAL - 1 }),
        fc.integer({ min: -5, max: 100_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (interval, into, clientDelta, r) => {
          const client = interval + clientDelta;
          const cursor = Number(responseCursor(at(interval, into), String(client), () => r));
          expect(Number.isInteger(cursor)).toBe(true);
          expect(cursor).toBeGreaterThanOrEqual(interval);
          if (client >= interval) {
            expect(cursor).toBeGreaterThan(client);
            expect(cursor - client).toBeLessThanOrEqual(3600_000 / INTERVAL);
          } else {
            expect(cursor).toBe(interval);
          }
        },
      ),
    );
  });
});

describe('Stream-Expires-At: fields are range-checked', () => {
  it.each(['2025-02-30T00:00:00Z', '2025-02-29T00:00:00Z', '2025-04-31T00:00:00Z', '2025-01-01T24:00:00Z', '2025-13-01T00:00:00Z', '2025-01-01T00:60:00Z', '2025-01-01T00:00:00+24:00'])('%s is a 400', (v) => {
    expect(() => parseExpiresAt(v)).toThrow(expect.objectContaining({ status: 400 }));
  });
  it('accepts a leap day and a leap second', () => {
    expect(parseExpiresAt('2024-02-29T12:00:00Z')?.ms).toBe(Date.UTC(2024, 1, 29, 12));
    expect(parseExpiresAt('2016-12-31T23:59:60Z')?.ms).toBe(Date.UTC(2016, 11, 31, 23, 59, 59));
  });
});
