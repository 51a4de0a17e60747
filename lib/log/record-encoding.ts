/**
 * The wire's record encodings (lib/wire/record-encoding.ts) with the log's errors: a field
 * that cannot be encoded is INVALID_RECORD, and a json value nested too deep is the
 * RecordTooDeepError that produce checks after the refusals that outrank it.
 */
import { InvalidRecordError, RecordTooDeepError } from '../errors.ts';
import { MAX_JSON_DEPTH } from '../wire/json-value.ts';
import * as wire from '../wire/record-encoding.ts';

export { ENCODINGS, decodeText, decodeValue, type DecodedText, type DecodedValue, type Encoding } from '../wire/record-encoding.ts';

function domainError(err: unknown): unknown {
  if (!(err instanceof wire.RecordEncodingError)) return err;
  return err.kind === 'too-deep' ? new RecordTooDeepError(err.message, err.byteLength, MAX_JSON_DEPTH) : new InvalidRecordError(err.message);
}

/** Key or header value from the wire to bytes. */
export function encodeText(value: unknown, encoding: wire.Encoding, what: string): Buffer | null {
  try {
    return wire.encodeText(value, encoding, what);
  } catch (err) {
    throw domainError(err);
  }
}

/** Record value from the wire to bytes. */
export function encodeValue(value: unknown, encoding: wire.Encoding, what: string): Buffer | null {
  try {
    return wire.encodeValue(value, encoding, what);
  } catch (err) {
    throw domainError(err);
  }
}
