import type { SqlFragment } from '@tessera/expr';

/**
 * A report statement under construction: text this package wrote itself (keywords,
 * validated ids) and bound values, never a value spliced into text. Values registered
 * with `shared` get one parameter however often they are used, so the workspace and the
 * object are always `$1` and `$2`.
 */
type Part = string | { value: unknown } | { shared: unknown };

export class Sql {
  private readonly parts: Part[] = [];

  text(text: string): this {
    this.parts.push(text);
    return this;
  }

  value(value: unknown): this {
    this.parts.push({ value });
    return this;
  }

  /** a value bound to one parameter however often it is used (the workspace, the object, the time zone) */
  shared(value: unknown): this {
    this.parts.push({ shared: value });
    return this;
  }

  fragment(fragment: SqlFragment): this {
    fragment.strings.forEach((s, i) => {
      this.parts.push(s);
      if (i < fragment.values.length) this.parts.push({ value: fragment.values[i] });
    });
    return this;
  }

  append(other: Sql): this {
    this.parts.push(...other.parts);
    return this;
  }

  /** the statement: `first` and then the other shared values get $1, $2...; plain values follow in text order */
  build(first: unknown[] = []): { text: string; values: unknown[] } {
    const shared = [...first];
    for (const p of this.parts) if (typeof p === 'object' && 'shared' in p && !shared.includes(p.shared)) shared.push(p.shared);
    const values = [...shared];
    let text = '';
    for (const p of this.parts) {
      if (typeof p === 'string') text += p;
      else if ('shared' in p) text += `$${shared.indexOf(p.shared) + 1}`;
      else {
        values.push(p.value);
        text += `$${values.length}`;
      }
    }
    return { text, values };
  }
}

export function sqlOf(...pieces: Array<string | Sql | SqlFragment>): Sql {
  const out = new Sql();
  for (const p of pieces) {
    if (typeof p === 'string') out.text(p);
    else if (p instanceof Sql) out.append(p);
    else out.fragment(p);
  }
  return out;
}

export function joinSql(items: Sql[], separator: string): Sql {
  const out = new Sql();
  items.forEach((item, i) => {
    if (i > 0) out.text(separator);
    out.append(item);
  });
  return out;
}
