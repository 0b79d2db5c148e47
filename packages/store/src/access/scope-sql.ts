import type { SqlFragment } from '@tessera/expr';

/** Small builder for the policy's parameterised predicates; only constants go in as text. */
export class Fragment {
  private readonly strings: string[] = [''];
  private readonly values: unknown[] = [];

  text(s: string): this {
    this.strings[this.strings.length - 1] += s;
    return this;
  }

  value(v: unknown): this {
    this.values.push(v);
    this.strings.push('');
    return this;
  }

  append(f: SqlFragment): this {
    f.strings.forEach((s, i) => {
      this.text(s);
      if (i < f.values.length) this.value(f.values[i]);
    });
    return this;
  }

  build(): SqlFragment {
    return { strings: [...this.strings], values: [...this.values] };
  }
}

/** `(a OR b OR ...)`; FALSE for none. */
export function anyOf(parts: SqlFragment[]): SqlFragment {
  if (parts.length === 0) return { strings: ['FALSE'], values: [] };
  const f = new Fragment().text('(');
  parts.forEach((p, i) => {
    if (i > 0) f.text(' OR ');
    f.text('(').append(p).text(')');
  });
  return f.text(')').build();
}
