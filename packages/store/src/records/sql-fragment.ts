import { sql, type RawBuilder } from 'kysely';
import type { SqlFragment } from '@tessera/expr';

/** Turns the expression compiler's neutral fragment into a kysely builder; values stay bound parameters. */
export function fragmentToSql(fragment: SqlFragment): RawBuilder<unknown> {
  const strings = Object.assign([...fragment.strings], { raw: [...fragment.strings] }) as unknown as TemplateStringsArray;
  return sql(strings, ...fragment.values);
}
