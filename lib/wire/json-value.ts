/**
 * Parsed JSON values measured without recursion (pure). V8's JSON.parse is iterative and takes
 * any depth, but JSON.stringify recurses: on Node 20's default stack (~984 KB) it overflows
 * past about 4,100 levels of nesting, fewer when called deep inside a request. So a record
 * value is stored only up to MAX_JSON_DEPTH levels (Jackson's default maxNestingDepth), which
 * also leaves fetch room to re-serialise it inside its answer; past that, these functions
 * size it without ever recursing.
 *
 * Depth counts nested arrays and objects: a scalar is 0, `[]` and `{}` are 1, `[[1]]` is 2.
 */
export const MAX_JSON_DEPTH = 1000;

function isContainer(v: unknown): v is object {
  return v !== null && typeof v === 'object';
}

/** The nesting depth of `value`; stops walking once it exceeds `limit` (and returns limit+1). */
export function jsonDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  if (!isContainer(value)) return 0;
  let max = 0;
  const stack: [object, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > max) {
      max = depth;
      if (max > limit) return max;
    }
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) if (isContainer(child)) stack.push([child, depth + 1]);
  }
  return max;
}

/** Skipped in objects and written as null in arrays by JSON.stringify. */
function isOmitted(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/**
 * Buffer.byteLength(JSON.stringify(value)) for plain values (what JSON.parse produces: no
 * toJSON, no bigint), computed iteratively, so it also works where JSON.stringify overflows.
 */
export function jsonByteLength(value: unknown): number {
  let bytes = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (Array.isArray(v)) {
      bytes += 2 + Math.max(0, v.length - 1);
      for (const item of v) pending.push(isOmitted(item) ? null : item);
    } else if (isContainer(v)) {
      const entries = Object.entries(v).filter(([, item]) => !isOmitted(item));
      bytes += 2 + Math.max(0, entries.length - 1);
      for (const [key, item] of entries) {
        bytes += Buffer.byteLength(JSON.stringify(key)) + 1;
        pending.push(item);
      }
    } else {
      // Scalars: JSON.stringify does not recurse for them (and escapes lone surrogates).
      bytes += Buffer.byteLength(JSON.stringify(v) ?? 'null');
    }
  }
  return bytes;
}
