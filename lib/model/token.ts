/** A bearer token as stored (values only, no imports): never the token itself, only its hash. */
export interface StoredToken {
  readonly name: string;
  /** SHA-256 of the token, hex. */
  readonly hash: string;
  /** The ACL entries as given (`produce:P`, `fetch:P`, `group:P`, `admin`). */
  readonly allow: readonly string[];
  readonly createdAt: number;
}
