import type { Locale } from '@tessera/metadata';
import type { ReportColumn, ReportResult, ReportRow } from '../model/result';

/** One line of an exported report: a result row, a subtotal or the grand total. */
export interface ExportLine {
  row: ReportRow;
  emphasis: 'subtotal' | 'total' | null;
  /** a dimension cell that names the roll-up ("Subtotal" / "合计") instead of its empty value */
  caption?: { column: number; text: string };
}

const SUBTOTAL: Record<Locale, string> = { en: 'Subtotal', zh: '小计' };
const TOTAL: Record<Locale, string> = { en: 'Total', zh: '合计' };

/** The result's rows in order, then the totals, with roll-up rows captioned in the export's language. */
export function exportLines(result: ReportResult, locale: Locale): ExportLine[] {
  const dims = result.columns.flatMap((c, i) => (c.role === 'dimension' ? [i] : []));
  const lines: ExportLine[] = result.rows.map((row) => {
    if (!row.subtotal) return { row, emphasis: null };
    // the rolled-up dimensions (those after `level` unless named) are empty; the first of them says so
    const rolledUp = row.subtotal.rolledUp?.[0];
    const named = rolledUp === undefined ? -1 : result.columns.findIndex((c) => c.key === rolledUp);
    const column = named >= 0 ? named : (dims[row.subtotal.level] ?? dims[dims.length - 1]);
    return { row, emphasis: 'subtotal', ...(column === undefined ? {} : { caption: { column, text: SUBTOTAL[locale] } }) };
  });
  if (result.totals) {
    lines.push({ row: result.totals, emphasis: 'total', caption: { column: dims[0] ?? 0, text: TOTAL[locale] } });
  }
  return lines;
}

/** Columns whose values are numbers in a spreadsheet. */
export function isNumericColumn(column: ReportColumn): boolean {
  return column.type === 'number' || column.type === 'money' || column.role === 'rate' || column.role === 'change';
}

/** A decimal as the database wrote it: a cell that can only be read as a number. */
export const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;
