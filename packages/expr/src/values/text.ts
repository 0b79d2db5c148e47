/** Text functions count characters as code points, as PostgreSQL's char_length does. */

export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // a high surrogate followed by a low one is one character
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function toInteger(n: number): number {
  return Number.isNaN(n) ? 0 : Math.trunc(n);
}

/** String.prototype.substr over characters. */
function substrOf(chars: string[], start: number, length?: number): string[] {
  const size = chars.length;
  let from = toInteger(start);
  if (from < 0) from = Math.max(size + from, 0);
  const count = length === undefined ? size : Math.min(Math.max(toInteger(length), 0), size);
  return chars.slice(from, Math.min(from + count, size));
}

/** json-logic's substr: a negative length leaves that many characters off the end. */
export function substr(s: string, start: number, length?: number): string {
  const chars = Array.from(s);
  if (length !== undefined && length < 0) {
    const rest = substrOf(chars, start);
    return substrOf(rest, 0, rest.length + length).join('');
  }
  return substrOf(chars, start, length).join('');
}

/** json-logic's cat: Array.prototype.join, where null counts as "". */
export function concatText(values: unknown[]): string {
  let out = '';
  for (const v of values) if (v !== null && v !== undefined) out += String(v);
  return out;
}
