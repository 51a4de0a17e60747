import { describe, expect, it } from 'vitest';
import { codeOf } from '../support/error-code.ts';
import { MAX_ID_LENGTH, isValidId, validateId } from '../../lib/id-rules.ts';

describe('ids (group, member, producer, transactional): 1-255 printable characters', () => {
  it.each([
    ['one character', 'g'],
    ['the limit', 'a'.repeat(MAX_ID_LENGTH)],
    ['spaces and punctuation', 'my group: #1 / blue'],
    ['non-ASCII letters', 'grüppe-ключ-群组'],
    ['NBSP (U+00A0, just past the C1 controls)', 'a\u00a0b'],
    ['surrogate pairs, counted as two units each', '😀'.repeat(127)],
    ['a percent sign', '%FF'],
  ])('accepts %s', (_what, id) => {
    expect(isValidId(id)).toBe(true);
    expect(validateId('group', id)).toBe(id);
  });

  it.each([
    ['the empty string', ''],
    ['one unit over the limit', 'a'.repeat(MAX_ID_LENGTH + 1)],
    ['128 emoji (256 UTF-16 units)', '😀'.repeat(128)],
    ['NUL', 'a\u0000'],
    ['a C0 control (U+001F)', 'a\u001fb'],
    ['DEL (U+007F)', 'a\u007fb'],
    ['the first C1 control (U+0080)', 'a\u0080b'],
    ['the last C1 control (U+009F)', 'a\u009fb'],
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', '\udc00'],
    ['a high surrogate at the end', 'abc\ud83d'],
    ['reversed surrogates', '\ude00\ud83d'],
  ])('refuses %s with INVALID_REQUEST', (_what, id) => {
    expect(isValidId(id)).toBe(false);
    expect(codeOf(() => validateId('member', id))).toBe('INVALID_REQUEST');
  });

  it('names the field in the message', () => {
    expect(() => validateId('transactional', '')).toThrow(/^transactionalId must be 1-255 printable characters$/);
    expect(() => validateId('producer', '\u007f')).toThrow(/^producer\.id /);
    expect(() => validateId('group', 'x'.repeat(300))).toThrow(/^group id /);
  });

  it('keeps every id-based key within DynamoDB limits at the maximum UTF-8 size', () => {
    // 255 BMP units of 3 UTF-8 bytes each is the worst case (a surrogate pair is 2 units, 4 bytes).
    const worst = '\u4e00'.repeat(MAX_ID_LENGTH);
    expect(isValidId(worst)).toBe(true);
    expect(Buffer.byteLength(`producer#${worst}`)).toBeLessThanOrEqual(1024);
    expect(Buffer.byteLength(`group#${worst}`)).toBeLessThanOrEqual(1024); // also the byKind sort key
  });
});
