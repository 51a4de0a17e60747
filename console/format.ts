/** How the console shows bytes, sizes and times. Pure. */

export type View = 'json' | 'text' | 'hex' | 'base64';

export function fromBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function asText(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function asHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** A base64 value (null: no value) shown as `view`; JSON falls back to text, text to hex. */
export function show(b64: string | null, view: View): { text: string; as: View } {
  if (b64 === null) return { text: 'null', as: view };
  if (view === 'base64') return { text: b64, as: 'base64' };
  const bytes = fromBase64(b64);
  if (view === 'hex') return { text: asHex(bytes), as: 'hex' };
  const text = asText(bytes);
  if (text === undefined) return { text: asHex(bytes), as: 'hex' };
  if (view === 'json') {
    try {
      return { text: JSON.stringify(JSON.parse(text), null, 2), as: 'json' };
    } catch {
      return { text, as: 'text' };
    }
  }
  return { text, as: 'text' };
}

/** A key or header value (base64) as text where it is UTF-8. */
export function keyText(b64: string | null): string {
  if (b64 === null) return '—';
  const bytes = fromBase64(b64);
  return asText(bytes) ?? `0x${asHex(bytes).replace(/ /g, '')}`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function localTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** `key=value` lines (blank lines and `#` comments skipped); an empty value is `''`. */
export function parsePairs(text: string): { pairs: [string, string][]; error?: string } {
  const pairs: [string, string][] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { pairs, error: `line ${i + 1}: expected key=value` };
    pairs.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return { pairs };
}

/** A config value as the API takes it: digits become numbers. */
export function configValue(v: string): string | number {
  return /^-?\d+$/.test(v) ? Number(v) : v;
}
