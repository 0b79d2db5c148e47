import { sql, type Transaction } from 'kysely';
import type { FieldDef } from '@tessera/metadata';
import type { SystemDatabase } from '@tessera/store';

type Token = { date: 'YYYY' | 'YY' | 'MM' | 'DD' } | { counter: number } | { text: string };

export interface AutonumberPattern {
  tokens: Token[];
  hasDate: boolean;
}

const TOKEN = /\{(YYYY|YY|MM|DD|0+)\}/g;

/** `QT-{YYYY}{MM}-{0000}` -> text, date parts and a zero-padded counter (appended when missing). */
export function parsePattern(pattern: string): AutonumberPattern {
  const tokens: Token[] = [];
  let last = 0;
  for (const m of pattern.matchAll(TOKEN)) {
    if (m.index > last) tokens.push({ text: pattern.slice(last, m.index) });
    const t = m[1]!;
    tokens.push(t.startsWith('0') ? { counter: t.length } : { date: t as 'YYYY' | 'YY' | 'MM' | 'DD' });
    last = m.index + m[0].length;
  }
  if (last < pattern.length) tokens.push({ text: pattern.slice(last) });
  if (!tokens.some((t) => 'counter' in t)) tokens.push({ counter: 1 });
  return { tokens, hasDate: tokens.some((t) => 'date' in t) };
}

interface DateParts {
  YYYY: string;
  YY: string;
  MM: string;
  DD: string;
}

function dateParts(now: Date, timezone: string): DateParts {
  const text = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  const [y = '0000', m = '01', d = '01'] = text.split('-');
  return { YYYY: y, YY: y.slice(-2), MM: m, DD: d };
}

/** The counter restarts whenever the date parts the pattern shows change: per year, month or day. */
function periodOf(pattern: AutonumberPattern, parts: DateParts): string {
  return pattern.tokens.map((t) => ('date' in t ? parts[t.date] : '')).join('');
}

/**
 * The next number for a field, drawn in the write's transaction: the counter row stays
 * locked until commit, so concurrent creates queue on it and a rollback returns the number.
 */
export async function nextAutonumber(
  trx: Transaction<SystemDatabase>,
  workspaceId: string,
  objectId: string,
  field: FieldDef,
  pattern: AutonumberPattern,
  now: Date,
  timezone: string,
): Promise<string> {
  const period = autonumberPeriod(pattern, now, timezone);
  const result = await sql<{ value: string | number }>`
    INSERT INTO autonumber_counters (workspace_id, object_id, field_id, period, value)
    VALUES (${workspaceId}, ${objectId}, ${field.id!}, ${period}, 1)
    ON CONFLICT (workspace_id, object_id, field_id, period)
    DO UPDATE SET value = autonumber_counters.value + 1
    RETURNING value`.execute(trx);
  return formatAutonumber(pattern, now, timezone, Number(result.rows[0]?.value ?? 1));
}

/** The counter's period for a moment: the date parts the pattern shows, in `timezone`. */
export function autonumberPeriod(pattern: AutonumberPattern, now: Date, timezone: string): string {
  return periodOf(pattern, dateParts(now, timezone));
}

export function formatAutonumber(pattern: AutonumberPattern, now: Date, timezone: string, value: number): string {
  const parts = dateParts(now, timezone);
  return pattern.tokens
    .map((t) => ('text' in t ? t.text : 'date' in t ? parts[t.date] : String(value).padStart(t.counter, '0')))
    .join('');
}
