/**
 * Phone numbers people type: a mainland mobile (`13812345678`, `+86 138 1234 5678`), a
 * landline with area code (`010-12345678`, `0755-1234567-123`), or anything E.164-ish
 * (`+1 (415) 555-0100`), optionally with an extension. 5 to 15 digits; kept as typed.
 */
const DIGITS = '(?=(?:\\D*\\d){5,15}\\D*$)';
const MAINLAND_MOBILE = '(?:\\+?86[ -]?)?1[3-9]\\d(?:[ -]?\\d{4}){2}';
const LANDLINE = '0\\d{2,3}[ -]?\\d{7,8}(?:-\\d{1,6})?';
const INTERNATIONAL = '\\+?[0-9][0-9 ()./-]{3,22}[0-9]';
const EXTENSION = '(?:\\s*(?:ext\\.?|x|转|#)\\s*\\d{1,6})?';
export const PHONE_PATTERN = `^${DIGITS}(?:${MAINLAND_MOBILE}|${LANDLINE}|${INTERNATIONAL})${EXTENSION}$`;

/** A plain decimal as money is written: `1234`, `-0.5`, `001234.50` (no exponent, no grouping). */
export const DECIMAL_INPUT_PATTERN = '^-?[0-9]+(\\.[0-9]+)?$';

export const DEFAULT_MAX_LENGTH = { text: 1000, longtext: 100_000 } as const;
export const DEFAULT_CURRENCY_SCALE = 2;
/** Integer digits a currency value may have: beyond this, a double could not even compare it. */
export const MAX_CURRENCY_DIGITS = 15;
