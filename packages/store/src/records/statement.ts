import { CompiledQuery } from 'kysely';
import type { SqlFragment } from '@tessera/expr';

/**
 * A parameterised statement built as text with `$n` placeholders. The list query is the
 * hottest read; composing it from kysely raw builders cost about 0.3 ms per page (node
 * construction and compile) on a 0.5 to 1.5 ms query, so it is built here directly. Only
 * `sql()` takes text, and callers pass it only constants and validated ids; every value
 * goes through `value()`.
 */
export class Statement {
  private readonly text: string[] = [];
  readonly values: unknown[] = [];

  sql(text: string): this {
    this.text.push(text);
    return this;
  }

  value(value: unknown): this {
    this.values.push(value);
    this.text.push(`$${this.values.length}`);
    return this;
  }

  /** The expression compiler's fragment, its values renumbered into this statement. */
  fragment(fragment: SqlFragment): this {
    fragment.strings.forEach((text, i) => {
      this.text.push(text);
      if (i < fragment.values.length) this.value(fragment.values[i]);
    });
    return this;
  }

  compile(): CompiledQuery {
    return CompiledQuery.raw(this.text.join(''), this.values);
  }
}
