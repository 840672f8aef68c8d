// ignoreBOM: a value may start with U+FEFF, and URLSearchParams keeps it too.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The value of an ASCII hex digit, or -1. */
function hex(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/**
 * application/x-www-form-urlencoded decoding as URLSearchParams does it ('+' is a space, a '%'
 * without two hex digits stays as it is), except that bytes which are not UTF-8 throw instead of
 * becoming U+FFFD.
 */
function decode(s: string): string {
  const text = s.includes('+') ? s.replaceAll('+', ' ') : s;
  if (!text.includes('%')) return text;
  const input = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i] as number;
    const high = c === 0x25 ? hex(input[i + 1]) : -1;
    const low = high >= 0 ? hex(input[i + 2]) : -1;
    if (low >= 0) {
      out[n++] = high * 16 + low;
      i += 2;
    } else {
      out[n++] = c;
    }
  }
  return utf8.decode(out.subarray(0, n));
}

/**
 * The query string's name/value pairs, in order. Throws a TypeError when a name or value is not
 * UTF-8 once percent-decoded (`%FF`, an overlong `%C0%80`, a surrogate `%ED%A0%80`).
 */
export function strictQuery(search: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const text = search.startsWith('?') ? search.slice(1) : search;
  if (text === '') return pairs;
  for (const part of text.split('&')) {
    if (part === '') continue;
    const at = part.indexOf('=');
    pairs.push(at < 0 ? [decode(part), ''] : [decode(part.slice(0, at)), decode(part.slice(at + 1))]);
  }
  return pairs;
}
