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
 * | addDays       | date/datetime, n             | `{"addDays": [{"var": "close_date"}, 30]}`                     | n days later (earlier if negative); a datetime moves by n × 24 hours. In filters n must be a whole-number literal |
 * | addMonths     | date/datetime, n             | `{"addMonths": [{"var": "start_date"}, 12]}`                   | n months later, clamped to the month's end (Jan 31 + 1 month = Feb 28/29); datetimes step their UTC date. In filters n must be a whole-number literal |
 * | diffDays      | a, b (both date or datetime) | `{"diffDays": [{"var": "created_at"}, {"now": []}]}`           | b − a in days: calendar days between dates; whole 24-hour periods between datetimes (truncated toward zero) |
 * | startOf       | date/datetime, unit          | `{"startOf": [{"today": []}, "quarter"]}`                      | first day of the week (Monday), month, quarter or year containing the date (a datetime's local date). Filters: dates only |
 * | concat  cat   | 1+ text/number/date/boolean  | `{"concat": [{"var": "first_name"}, " ", {"var": "last_name"}]}` | joins as text; null counts as "" (json-logic `cat`). Filters: text and date arguments only |
 * | lower  upper  | text                         | `{"lower": [{"var": "email"}]}`                                | Unicode lower/upper case. JS only (PostgreSQL's "C" collation folds ASCII only) |
 * | length        | text or list                 | `{">": [{"length": [{"var": "title"}]}, 50]}`                  | characters (code points, so 😀 is 1) or list elements |
 * | substr        | text, start[, length]        | `{"substr": [{"var": "code"}, 0, 3]}`                          | json-logic `substr` counted in characters: negative start counts from the end, negative length leaves that many off. JS only |
 * | matches       | text, regex literal          | `{"matches": [{"var": "sku"}, "^[A-Z]{3}-\\d+$"]}`           | JavaScript regular expression (Unicode mode) finds a match; false for null. JS only |
 * | + - * / %     | numbers                      | `{"*": [{"var": "price"}, {"var": "qty"}]}`                    | decimal-exact arithmetic (0.1 + 0.2 = 0.3; money keeps its cents up to 15 significant digits); null in, null out; / and % by 0 give null. `-` with one argument negates. `/` and `%` are JS only |
 * | round         | x[, digits]                  | `{"round": [{"var": "amount"}, 2]}`                            | half away from zero at a literal number of decimals (−6 to 10; default 0) |
 * | abs           | x                            | `{"abs": [{"diffDays": [{"var": "due"}, {"today": []}]}]}`      | absolute value |
 * | min  max      | 1+ of one comparable type    | `{"max": [{"var": "amount"}, 0]}`                              | smallest / largest, ignoring nulls (null when all are null); numbers, text, dates |
 * | coalesce      | 1+ of one type               | `{"coalesce": [{"var": "nickname"}, {"var": "name"}]}`         | the first argument that is not null |
 * | if            | cond, then[, cond, then…][, else] | `{"if": [{">": [{"var": "amount"}, 500000]}, "key", "normal"]}` | json-logic `if` with else-if chains; conditions are true/false; no else gives null |
 * | isEmail       | text                         | `{"isEmail": [{"var": "email"}]}`                              | looks like name@domain.tld (ASCII) |
 * | isCnMobile    | text                         | `{"isCnMobile": [{"var": "mobile"}]}`                          | mainland mobile 1[3-9] + 9 digits, optionally +86/86 first; spaces and dashes ignored |
 * | isCnCreditCode| text                         | `{"isCnCreditCode": [{"var": "credit_code"}]}`                 | 统一社会信用代码 (GB 32100-2015): 18 characters from 0-9 and A-Y without I O S V Z, valid check digit. JS only |
 *
 * Relation paths: `{"var": "company.industry"}` reads field `industry` of the record the
 * relation field `company` points to (one step; null when the relation is empty). JS only:
 * formulas, validations, defaults, form behaviour and automations may use them, filters not.
 *
 * "JS only" operators are rejected in filters (views, role scopes, rollup filters) with the
 * code `not_in_sql`, because a filter must mean the same in PostgreSQL.
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
  ['addDays', { min: 2, max: 2 }],
  ['addMonths', { min: 2, max: 2 }],
  ['diffDays', { min: 2, max: 2 }],
  ['startOf', { min: 2, max: 2 }],
  ['concat', { min: 1, max: UNBOUNDED }],
  ['cat', { min: 1, max: UNBOUNDED }],
  ['lower', { min: 1, max: 1 }],
  ['upper', { min: 1, max: 1 }],
  ['length', { min: 1, max: 1 }],
  ['substr', { min: 2, max: 3 }],
  ['matches', { min: 2, max: 2 }],
  ['+', { min: 1, max: UNBOUNDED }],
  ['-', { min: 1, max: 2 }],
  ['*', { min: 1, max: UNBOUNDED }],
  ['/', { min: 2, max: 2 }],
  ['%', { min: 2, max: 2 }],
  ['round', { min: 1, max: 2 }],
  ['abs', { min: 1, max: 1 }],
  ['min', { min: 1, max: UNBOUNDED }],
  ['max', { min: 1, max: UNBOUNDED }],
  ['coalesce', { min: 1, max: UNBOUNDED }],
  ['if', { min: 2, max: UNBOUNDED }],
  ['isEmail', { min: 1, max: 1 }],
  ['isCnMobile', { min: 1, max: 1 }],
  ['isCnCreditCode', { min: 1, max: 1 }],
]);

/** Units of startOf. */
export const START_UNITS = ['week', 'month', 'quarter', 'year'] as const;
export type StartUnit = (typeof START_UNITS)[number];

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
