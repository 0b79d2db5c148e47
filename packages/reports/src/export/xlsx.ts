import ExcelJS from 'exceljs';
import type { Locale } from '@tessera/metadata';
import type { ReportColumn, ReportResult } from '../model/result';
import { DEFAULT_TIMEZONE } from '@tessera/expr';
import { formatValue, toNumber, wallClock } from '../charts/format';
import { exportLines, isNumericColumn } from './rows';

/**
 * A report result as an .xlsx workbook of one sheet: a bold header row, typed cells
 * (numbers as numbers, money with its currency format, dates as dates), subtotal and
 * total rows in bold. A spreadsheet has no time zones: dates are written as calendar
 * dates, datetimes as the wall clock of `timezone` (default Asia/Shanghai).
 */
export async function reportToXlsx(result: ReportResult, options: { locale?: Locale; sheetName?: string; timezone?: string } = {}): Promise<Buffer> {
  const locale = options.locale ?? 'en';
  const timezone = options.timezone ?? DEFAULT_TIMEZONE;
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Tessera';
  const sheet = workbook.addWorksheet(sheetName(options.sheetName ?? 'Report'));
  sheet.columns = result.columns.map((c) => ({ header: c.label, key: c.key, width: Math.min(40, Math.max(12, c.label.length * 2 + 2)), style: { numFmt: numberFormat(c) } }));
  sheet.getRow(1).font = { bold: true };
  sheet.views = [{ state: 'frozen', ySplit: 1 }];
  for (const line of exportLines(result, locale)) {
    const row = sheet.addRow(
      result.columns.map((column, i) => (line.caption?.column === i && line.row.values[column.key] == null ? line.caption.text : xlsxCell(line.row.values[column.key], column, locale, timezone))),
    );
    if (line.emphasis) row.font = { bold: true };
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

function xlsxCell(value: unknown, column: ReportColumn, locale: Locale, timezone: string): ExcelJS.CellValue {
  if (value === null || value === undefined) return null;
  if (isNumericColumn(column)) return toNumber(value);
  if ((column.type === 'date' || column.type === 'datetime') && !column.options && typeof value === 'string') {
    // a bucket of a datetime field is a calendar date too
    const date = column.type === 'date' || column.bucket ? new Date(`${value.slice(0, 10)}T00:00:00Z`) : wallClock(value, timezone);
    if (date && !Number.isNaN(date.getTime())) return date;
  }
  return formatValue(value, column, locale, timezone);
}

/** The cell format of a column: money with its currency symbol, rates as percentages, dates by their bucket. */
export function numberFormat(column: ReportColumn): string | undefined {
  if (column.role === 'rate' || column.role === 'change') return '0.0%';
  if (column.type === 'money') return column.currency ? `"${currencySymbol(column.currency)}"#,##0.00;-"${currencySymbol(column.currency)}"#,##0.00` : '#,##0.00';
  if (column.bucket) return column.bucket === 'month' ? 'yyyy-mm' : column.bucket === 'year' ? 'yyyy' : 'yyyy-mm-dd';
  if (column.type === 'date') return 'yyyy-mm-dd';
  if (column.type === 'datetime') return 'yyyy-mm-dd hh:mm';
  return undefined;
}

function currencySymbol(currency: string): string {
  const parts = new Intl.NumberFormat('en', { style: 'currency', currency, currencyDisplay: 'narrowSymbol' }).formatToParts(0);
  return parts.find((p) => p.type === 'currency')?.value ?? currency;
}

/** Excel refuses sheet names over 31 characters or with any of : \ / ? * [ ]. */
function sheetName(name: string): string {
  return name.replace(/[:\\/?*[\]]/g, ' ').slice(0, 31).trim() || 'Report';
}
