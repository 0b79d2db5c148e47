import type { SqlFragment } from '../types';

/** SQL under construction: text pieces and bound values, never a value spliced into text. */
export type Part = string | { value: unknown };
export type Frag = readonly Part[];

/** Composes fragments: q`COALESCE(${a} = ${b}, false)` where every hole is a fragment. */
export function q(strings: TemplateStringsArray, ...holes: Frag[]): Frag {
  const out: Part[] = [];
  strings.forEach((s, i) => {
    if (s) out.push(s);
    if (i < holes.length) out.push(...holes[i]!);
  });
  return out;
}

/** Only for text this module wrote itself (keywords, validated ids). */
export function raw(text: string): Frag {
  return [text];
}

export function param(value: unknown): Frag {
  return [{ value }];
}

export function join(frags: Frag[], separator: string): Frag {
  const out: Part[] = [];
  frags.forEach((f, i) => {
    if (i > 0) out.push(separator);
    out.push(...f);
  });
  return out;
}

export function toSqlFragment(frag: Frag): SqlFragment {
  const strings = [''];
  const values: unknown[] = [];
  for (const part of frag) {
    if (typeof part === 'string') strings[strings.length - 1] += part;
    else {
      values.push(part.value);
      strings.push('');
    }
  }
  return { strings, values };
}
