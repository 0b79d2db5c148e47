import type { Locale } from '@tessera/metadata';
import { DEFAULT_TIMEZONE } from '@tessera/expr';
import type { ReportColumn } from '../model/result';

/**
 * Locale-aware text for values in charts and exports. Period labels are built by hand
 * (not Intl date formatting) so the server and every browser print the same words.
 */

const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The BCP 47 tag Intl needs for one of the app's UI languages. */
export function intlLocale(locale: Locale): string {
  return locale === 'zh' ? 'zh-CN' : 'en-US';
}

const EMPTY_LABEL: Record<Locale, string> = { en: '(empty)', zh: '（空）' };
const BOOLEAN_LABELS: Record<Locale, [string, string]> = { en: ['Yes', 'No'], zh: ['是', '否'] };

/** `2026-03-01` read as a calendar date, whatever the machine's zone. */
function dateParts(iso: string): { y: number; m: number; d: number } | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!match) return null;
  return { y: Number(match[1]), m: Number(match[2]), d: Number(match[3]) };
}

/** ISO 8601 week-numbering year and week of a date (weeks start on Monday). */
function isoWeek(y: number, m: number, d: number): { year: number; week: number } {
  const day = new Date(Date.UTC(y, m - 1, d));
  const weekday = (day.getUTCDay() + 6) % 7; // Monday = 0
  const thursday = new Date(day.getTime() + (3 - weekday) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const dayOfYear = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / 86_400_000);
  return { year, week: Math.floor(dayOfYear / 7) + 1 };
}

/** The label of a date bucket whose value is the ISO date of its first day: 2026年3月 / Mar 2026, 2026 Q1, 2026-W10. */
export function formatPeriod(iso: string, bucket: NonNullable<ReportColumn['bucket']>, locale: Locale): string {
  const p = dateParts(iso);
  if (!p) return iso;
  const zh = locale === 'zh';
  switch (bucket) {
    case 'year':
      return zh ? `${p.y}年` : String(p.y);
    case 'quarter':
      return `${p.y} Q${Math.floor((p.m - 1) / 3) + 1}`;
    case 'month':
      return zh ? `${p.y}年${p.m}月` : `${MONTHS_EN[p.m - 1]} ${p.y}`;
    case 'week': {
      const w = isoWeek(p.y, p.m, p.d);
      return zh ? `${w.year}年第${w.week}周` : `${w.year} W${String(w.week).padStart(2, '0')}`;
    }
    case 'day':
      return formatDate(iso, locale);
  }
}

/** A calendar date: 2026年3月5日 / Mar 5, 2026. */
export function formatDate(iso: string, locale: Locale): string {
  const p = dateParts(iso);
  if (!p) return iso;
  return locale === 'zh' ? `${p.y}年${p.m}月${p.d}日` : `${MONTHS_EN[p.m - 1]} ${p.d}, ${p.y}`;
}

const clocks = new Map<string, Intl.DateTimeFormat>();

function clockIn(timezone: string): Intl.DateTimeFormat {
  let clock = clocks.get(timezone);
  if (!clock) {
    clock = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    clocks.set(timezone, clock);
  }
  return clock;
}

/**
 * The wall-clock reading of an instant in `timezone`, as UTC fields of a Date: what a
 * person in that zone reads (and what a spreadsheet, which has no zones, should show).
 */
export function wallClock(iso: string | number, timezone: string = DEFAULT_TIMEZONE): Date | null {
  const instant = typeof iso === 'number' ? iso : Date.parse(iso);
  if (Number.isNaN(instant)) return null;
  const parts = clockIn(timezone).formatToParts(instant);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return new Date(Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')));
}

/** A datetime as read in `timezone`: 2026年3月5日 14:30 / Mar 5, 2026 14:30. */
export function formatDateTime(iso: string, locale: Locale, timezone: string = DEFAULT_TIMEZONE): string {
  const wall = wallClock(iso, timezone);
  if (!wall) return iso;
  const time = `${String(wall.getUTCHours()).padStart(2, '0')}:${String(wall.getUTCMinutes()).padStart(2, '0')}`;
  return `${formatDate(wall.toISOString(), locale)} ${time}`;
}

/** Building an Intl formatter costs far more than using one; a table of 10,000 rows formats 40,000 cells. */
const formatters = new Map<string, Intl.NumberFormat>();

function numberFormat(locale: Locale, kind: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale} ${kind}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.NumberFormat(intlLocale(locale), options);
    formatters.set(key, format);
  }
  return format;
}

/** Money in the locale's way: ¥1,234.50 (zh-CN) / CN¥1,234.50 (en). Decimal strings keep their digits up to what a double holds. */
export function formatMoney(value: unknown, currency: string | undefined, locale: Locale): string {
  const n = toNumber(value);
  if (n === null) return EMPTY_LABEL[locale];
  if (!currency) return formatNumber(n, locale);
  return numberFormat(locale, currency, { style: 'currency', currency }).format(n);
}

export function formatNumber(value: unknown, locale: Locale): string {
  const n = toNumber(value);
  if (n === null) return EMPTY_LABEL[locale];
  return numberFormat(locale, 'number', { maximumFractionDigits: 2 }).format(n);
}

export function formatPercent(value: unknown, locale: Locale): string {
  const n = toNumber(value);
  if (n === null) return '–';
  return numberFormat(locale, 'percent', { style: 'percent', maximumFractionDigits: 1 }).format(n);
}

/** Numbers arrive as numbers, money and decimal sums as decimal strings. */
export function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** What a person reads for one cell: an option's label, a period, a formatted amount; datetimes in `timezone`. */
export function formatValue(value: unknown, column: ReportColumn, locale: Locale, timezone: string = DEFAULT_TIMEZONE): string {
  if (value === null || value === undefined) return column.role === 'rate' || column.role === 'change' ? '–' : EMPTY_LABEL[locale];
  if (column.options) {
    const option = column.options.find((o) => o.value === value);
    if (option) return option.label;
  }
  if (column.bucket && typeof value === 'string') return formatPeriod(value, column.bucket, locale);
  if (column.role === 'rate' || column.role === 'change') return formatPercent(value, locale);
  switch (column.type) {
    case 'money':
      return formatMoney(value, column.currency, locale);
    case 'number':
      return formatNumber(value, locale);
    case 'boolean':
      return BOOLEAN_LABELS[locale][value ? 0 : 1];
    case 'date':
      return typeof value === 'string' ? formatDate(value, locale) : String(value);
    case 'datetime':
      return typeof value === 'string' ? formatDateTime(value, locale, timezone) : String(value);
    case 'list':
      return Array.isArray(value) ? value.join(', ') : String(value);
    default:
      return String(value);
  }
}
