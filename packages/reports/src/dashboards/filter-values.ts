import { ProblemError, type AppDocument, type FieldError } from '@tessera/metadata';
import { DEFAULT_TIMEZONE, type EvalEnv } from '@tessera/expr';
import type { DashboardDef, GlobalFilterDef, GlobalFilterValue } from './dashboard';
import { filterTarget, type FilterTarget } from './filter-fields';
import { wallClock } from '../charts/format';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_VALUES = 200;

/**
 * Reads the values a viewer chose for a dashboard's global filters. Accepted forms (the
 * API's query string and JS callers alike): dateRange `"2026-01-01..2026-03-31"` (either
 * end may be left out) or `{ from, to }`; user and select a comma-separated string or an
 * array; `me` stands for the viewer. An empty value means "no filter". Any problem is one
 * 400 naming every offending filter by its key.
 */
export function parseFilterValues(doc: AppDocument, dashboard: DashboardDef, raw: Record<string, unknown>, env: EvalEnv): Map<string, GlobalFilterValue> {
  const filters = new Map((dashboard.filters ?? []).map((f) => [f.key, f]));
  const values = new Map<string, GlobalFilterValue>();
  const errors: FieldError[] = [];
  for (const [key, input] of Object.entries(raw)) {
    const filter = filters.get(key);
    if (!filter) {
      errors.push({ field: key, code: 'unknown_filter', message: `the dashboard has no filter "${key}" (it has: ${[...filters.keys()].join(', ') || 'none'})` });
      continue;
    }
    if (input === undefined || input === null || input === '') continue;
    const parsed = filter.type === 'dateRange' ? parseDateRange(input) : parseList(doc, filter, input, env);
    if (typeof parsed === 'string') errors.push({ field: key, code: 'invalid', message: parsed });
    else if (parsed) values.set(key, parsed);
  }
  if (errors.length > 0) throw new ProblemError('bad_request', 'Invalid dashboard filter values', errors);
  return values;
}

function parseDateRange(input: unknown): GlobalFilterValue | string | null {
  let from: unknown;
  let to: unknown;
  if (typeof input === 'string') {
    const parts = input.split('..');
    if (parts.length !== 2) return 'a date range is written "from..to" with ISO dates, e.g. 2026-01-01..2026-03-31 (either end may be left out)';
    [from, to] = parts.map((p) => (p === '' ? undefined : p));
  } else if (input && typeof input === 'object' && !Array.isArray(input)) {
    ({ from, to } = input as { from?: unknown; to?: unknown });
  } else {
    return 'a date range is a "from..to" string or an object { from, to }';
  }
  for (const [name, value] of [['from', from], ['to', to]] as const) {
    if (value !== undefined && value !== null && !isCalendarDate(value)) return `${name} must be a calendar date YYYY-MM-DD, got ${JSON.stringify(value)}`;
  }
  const range: GlobalFilterValue = { type: 'dateRange', ...(typeof from === 'string' ? { from } : {}), ...(typeof to === 'string' ? { to } : {}) };
  if (range.from && range.to && range.from > range.to) return `the range starts (${range.from}) after it ends (${range.to})`;
  return range.from || range.to ? range : null;
}

function isCalendarDate(value: unknown): value is string {
  if (typeof value !== 'string' || !ISO_DATE.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

function parseList(doc: AppDocument, filter: GlobalFilterDef, input: unknown, env: EvalEnv): GlobalFilterValue | string | null {
  const items = typeof input === 'string' ? input.split(',').map((s) => s.trim()) : input;
  if (!Array.isArray(items) || items.some((v) => typeof v !== 'string' || v === '' || v.length > 100)) return 'a list of values: a comma-separated string or an array of non-empty strings';
  if (items.length > MAX_VALUES) return `at most ${MAX_VALUES} values`;
  let values = [...new Set(items as string[])];
  if (filter.type === 'user') {
    if (values.includes('me') && !env.userId) return '"me" needs a signed-in viewer';
    const notIds = values.filter((v) => v !== 'me' && !USER_ID.test(v));
    if (notIds.length > 0) return `users are given by id (a UUID) or "me": ${notIds.join(', ')}`;
    values = values.map((v) => (v === 'me' ? env.userId! : v));
  } else {
    const allowed = new Set(targetsOf(doc, filter).flatMap((t) => (t.kind === 'select' ? t.options.map((o) => o.value) : [])));
    const unknown = values.filter((v) => !allowed.has(v));
    if (unknown.length > 0) return `not an option of the filtered field: ${unknown.join(', ')} (options: ${[...allowed].join(', ')})`;
  }
  return values.length > 0 ? { type: filter.type as 'user' | 'select', values } : null;
}

function targetsOf(doc: AppDocument, filter: GlobalFilterDef): FilterTarget[] {
  return Object.entries(filter.appliesTo).flatMap(([objectKey, fieldKey]) => {
    const target = filterTarget(doc, filter.type, objectKey, fieldKey);
    return 'error' in target ? [] : [target];
  });
}

/**
 * The one extra filter expression of a widget whose report reads `objectKey`: every
 * global filter that applies to the object and has a value, ANDed; undefined when none does.
 */
export function globalFilterExpression(
  doc: AppDocument,
  dashboard: DashboardDef,
  values: Map<string, GlobalFilterValue>,
  objectKey: string,
  env: EvalEnv,
): unknown {
  const parts: unknown[] = [];
  for (const filter of dashboard.filters ?? []) {
    const value = values.get(filter.key);
    const fieldKey = filter.appliesTo[objectKey];
    if (!value || !fieldKey) continue;
    const target = filterTarget(doc, filter.type, objectKey, fieldKey);
    if ('error' in target) continue; // checkDashboards refuses such a dashboard before it is published
    parts.push(...conditions(fieldKey, target, value, env.timezone ?? DEFAULT_TIMEZONE));
  }
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : { and: parts };
}

function conditions(fieldKey: string, target: FilterTarget, value: GlobalFilterValue, timezone: string): unknown[] {
  const field = { var: fieldKey };
  if (value.type !== 'dateRange') return [value.values.length === 1 ? { '==': [field, value.values[0]] } : { in: [field, value.values] }];
  const out: unknown[] = [];
  if (target.kind === 'date') {
    if (value.from) out.push({ '>=': [field, value.from] });
    if (value.to) out.push({ '<=': [field, value.to] });
  } else {
    // a datetime is in the range when its local date (in the viewer's zone) is
    if (value.from) out.push({ '>=': [field, zonedMidnight(value.from, timezone)] });
    if (value.to) out.push({ '<': [field, zonedMidnight(nextDay(value.to), timezone)] });
  }
  return out;
}

function nextDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** The instant local midnight of `date` is in `timezone`, as an ISO UTC datetime. */
export function zonedMidnight(date: string, timezone: string): string {
  const wall = Date.parse(`${date}T00:00:00Z`);
  let instant = wall - zoneOffset(wall, timezone);
  // across a DST change the offset at the guess can differ from the offset at the answer
  instant = wall - zoneOffset(instant, timezone);
  return new Date(instant).toISOString();
}

/** How far `timezone`'s wall clock is ahead of UTC at `instant`, in ms. */
function zoneOffset(instant: number, timezone: string): number {
  return wallClock(instant, timezone)!.getTime() - Math.floor(instant / 1000) * 1000;
}
