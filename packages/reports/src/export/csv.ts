import Papa from 'papaparse';
import type { Locale } from '@tessera/metadata';
import type { ReportColumn, ReportResult } from '../model/result';
import { DEFAULT_TIMEZONE } from '@tessera/expr';
import { formatValue, wallClock } from '../charts/format';
import { DECIMAL_TEXT, exportLines, isNumericColumn } from './rows';

/** Excel reads a UTF-8 file as the local code page (GBK on a Chinese Windows) unless it starts with a BOM. */
const BOM = '\uFEFF';

/**
 * A report result as CSV: a header of the column labels (in the language the result was
 * run in), one line per row, subtotals and totals captioned. Numbers stay plain so a
 * spreadsheet reads them as numbers; everything else is the text a person reads in the app.
 */
export function reportToCsv(result: ReportResult, options: { locale?: Locale; timezone?: string } = {}): string {
  const locale = options.locale ?? 'en';
  const timezone = options.timezone ?? DEFAULT_TIMEZONE;
  const data = exportLines(result, locale).map((line) =>
    result.columns.map((column, i) => (line.caption?.column === i && line.row.values[column.key] == null ? line.caption.text : csvCell(line.row.values[column.key], column, locale, timezone))),
  );
  const text = Papa.unparse({ fields: result.columns.map((c) => neutralize(c.label)), data }, { newline: '\r\n', quotes: false });
  return BOM + text;
}

function csvCell(value: unknown, column: ReportColumn, locale: Locale, timezone: string): string | number {
  if (value === null || value === undefined) return '';
  if (isNumericColumn(column)) {
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && DECIMAL_TEXT.test(value)) return value;
  }
  if (column.type === 'date' && !column.bucket && !column.options && typeof value === 'string') return value;
  if (column.type === 'datetime' && !column.bucket && typeof value === 'string') {
    // the wall clock in the viewer's zone, in a form spreadsheets read as a date and time
    const wall = wallClock(value, timezone);
    if (wall) return wall.toISOString().slice(0, 16).replace('T', ' ');
  }
  return neutralize(formatValue(value, column, locale, timezone));
}

/**
 * A spreadsheet runs a cell starting with = + - @ (or a tab / CR that hides one) as a
 * formula; a leading apostrophe makes it text. Numbers never reach here.
 */
export function neutralize(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}
