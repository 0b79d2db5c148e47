/**
 * The operators of the expression language. One example each (the docs lift this table).
 *
 * | operator      | args                         | example                                                        | meaning |
 * |---------------|------------------------------|----------------------------------------------------------------|---------|
 * | var           | field key or system field    | `{"var": "amount"}`                                            | the record's value; missing -> null |
 * | ==  !=        | 2                            | `{"==": [{"var": "stage"}, "won"]}`                            | equal / not equal; false when either side is null, except a literal `null`: `{"==": [{"var": "x"}, null]}` tests missing |
 * | < <= > >=     | 2 (or 3: a < b < c)          | `{">=": [{"var": "amount"}, 1000]}`                            | numbers numerically (currency too), text by code point, dates and datetimes chronologically; false with null |
 * | between       | 3                            | `{"between": [{"var": "amount"}, 100, 500]}`                   | lo <= x <= hi, inclusive |
 * | in            | 2                            | `{"in": [{"var": "stage"}, ["new", "won"]]}`                   | x is one of a literal array; `{"in": ["vip", {"var": "tags"}]}` list membership; `{"in": ["ab", {"var": "title"}]}` substring |
 * | contains      | 2                            | `{"contains": [{"var": "title"}, "合同"]}`                      | text has substring (case-sensitive; never in empty text, as in json-logic) / list has element |
 * | startsWith    | 2                            | `{"startsWith": [{"var": "phone"}, "+86"]}`                    | text prefix (case-sensitive) |
 * | isEmpty       | 1                            | `{"isEmpty": [{"var": "email"}]}`                              | null, missing, "" or [] |
 * | and  or       | 1+                           | `{"and": [{"var": "hot"}, {">": [{"var": "amount"}, 0]}]}`     | boolean and / or |
 * | !  not        | 1                            | `{"!": [{"var": "hot"}]}`                                      | boolean not (null counts as false, so `!` of a null comparison is true) |
 * | !!            | 1                            | `{"!!": [{"var": "title"}]}`                                   | truthy: not null, not false, not 0, not "", not [] |
 * | today         | 0                            | `{"<": [{"var": "close_date"}, {"today": []}]}`                | today's date (YYYY-MM-DD) in env.timezone |
 * | now           | 0                            | `{"<": [{"var": "due_at"}, {"now": []}]}`                      | env.now as an ISO UTC datetime |
 * | currentUser   | 0                            | `{"==": [{"var": "owner_id"}, {"currentUser": []}]}`           | env.userId (null when nobody is signed in) |
 * | inLast        | date/datetime, N, unit       | `{"inLast": [{"var": "close_date"}, 7, "day"]}`                | local date within [today - N units, today]; unit: day, week, month, quarter, year |
 * | inNext        | date/datetime, N, unit       | `{"inNext": [{"var": "close_date"}, 1, "month"]}`              | local date within [today, today + N units] |
 * | inPeriod      | date/datetime, period        | `{"inPeriod": [{"var": "close_date"}, "this_quarter"]}`        | local date within a calendar period: today, yesterday, tomorrow, {last,this,next}_{week,month,quarter,year}; weeks start on Monday |
 *
 * Literals: numbers, strings, true, false, null. A string literal stands for a date where a
 * date is compared (`"2024-06-30"`) and for a datetime where a datetime is compared, written
 * exactly as `Date.prototype.toISOString()` writes it (`"2024-06-30T16:00:00.000Z"`), because
 * datetimes are compared as that text in every interpreter. Arrays appear only as the
 * right-hand side of `in`.
 *
 * "Local date" of a datetime means its calendar date in env.timezone; a month step from the
 * 31st lands on the last day of a shorter month.
 */

export interface OperatorSpec {
  /** smallest and largest number of arguments */
  min: number;
  max: number;
}

const UNBOUNDED = Number.POSITIVE_INFINITY;

export const OPERATORS: ReadonlyMap<string, OperatorSpec> = new Map<string, OperatorSpec>([
  ['==', { min: 2, max: 2 }],
  ['!=', { min: 2, max: 2 }],
  ['<', { min: 2, max: 3 }],
  ['<=', { min: 2, max: 3 }],
  ['>', { min: 2, max: 2 }],
  ['>=', { min: 2, max: 2 }],
  ['between', { min: 3, max: 3 }],
  ['in', { min: 2, max: 2 }],
  ['contains', { min: 2, max: 2 }],
  ['startsWith', { min: 2, max: 2 }],
  ['isEmpty', { min: 1, max: 1 }],
  ['and', { min: 1, max: UNBOUNDED }],
  ['or', { min: 1, max: UNBOUNDED }],
  ['!', { min: 1, max: 1 }],
  ['not', { min: 1, max: 1 }],
  ['!!', { min: 1, max: 1 }],
  ['today', { min: 0, max: 0 }],
  ['now', { min: 0, max: 0 }],
  ['currentUser', { min: 0, max: 0 }],
  ['inLast', { min: 3, max: 3 }],
  ['inNext', { min: 3, max: 3 }],
  ['inPeriod', { min: 2, max: 2 }],
]);

export const DATE_UNITS = ['day', 'week', 'month', 'quarter', 'year'] as const;
export type DateUnit = (typeof DATE_UNITS)[number];

export const PERIODS = [
  'today',
  'yesterday',
  'tomorrow',
  'last_week',
  'this_week',
  'next_week',
  'last_month',
  'this_month',
  'next_month',
  'last_quarter',
  'this_quarter',
  'next_quarter',
  'last_year',
  'this_year',
  'next_year',
] as const;
export type Period = (typeof PERIODS)[number];
