/**
 * The API's error body (docs/API.md "Errors"), shared by the server and the client:
 * `{"error": {"code", "message", "retriable", ...details}}`. A multi-partition fetch carries
 * the same fields per partition. Pure: knows nothing of HTTP statuses or of the error classes.
 */

export interface ErrorFields {
  readonly code: string;
  readonly message: string;
  readonly retriable: boolean;
  readonly [detail: string]: unknown;
}

export interface ErrorBody {
  readonly error: ErrorFields;
}

/** Details first, so a detail can never overwrite code, message or retriable. */
export function errorFields(e: { code: string; message: string; retriable: boolean; details: Readonly<Record<string, unknown>> }): ErrorFields {
  return { ...e.details, code: e.code, message: e.message, retriable: e.retriable };
}
