/**
 * Rules for the ids clients choose or send back (pure, no I/O): group ids, member ids,
 * producer ids, transactional ids and token names. Topic names have their own, Kafka's, in
 * log/topic-rules.ts.
 *
 * Every such id is 1-255 printable characters:
 *  - "characters" are UTF-16 code units, as Java's String.length() counts them (Kafka's own
 *    name limits count that way);
 *  - "printable" means no Unicode control character (category Cc: C0 U+0000-U+001F, DEL
 *    U+007F, C1 U+0080-U+009F) and no lone surrogate (category Cs: such a string has no UTF-8
 *    encoding, and DynamoDB stores strings as UTF-8).
 *
 * Why 255: the ids become DynamoDB keys (lib/storage/keys/). 255 code units are at most 765 UTF-8 bytes
 * (3 per BMP unit, 4 per surrogate pair); with the longest prefix ("producer#", 9 bytes) a
 * partition key stays under 775 bytes, far under DynamoDB's 2,048, and a group's pk also fits
 * the 1,024-byte limit of the byKind index, where it is the sort key.
 */
import { InvalidRequestError } from './errors.ts';

export const MAX_ID_LENGTH = 255;

/** What each id is called in messages (the request field that carries it). */
export const ID_NAMES = {
  group: 'group id',
  member: 'memberId',
  producer: 'producer.id',
  transactional: 'transactionalId',
  token: 'token name',
} as const;

export type IdKind = keyof typeof ID_NAMES;

// With the u flag, \p{Cs} matches only unpaired surrogates (a pair is one code point).
const NOT_PRINTABLE = /[\p{Cc}\p{Cs}]/u;

export function isValidId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_ID_LENGTH && !NOT_PRINTABLE.test(id);
}

/** `id` unchanged, or INVALID_REQUEST naming the field. */
export function validateId(kind: IdKind, id: string): string {
  if (!isValidId(id)) {
    throw new InvalidRequestError(`${ID_NAMES[kind]} must be 1-${MAX_ID_LENGTH} printable characters`);
  }
  return id;
}
