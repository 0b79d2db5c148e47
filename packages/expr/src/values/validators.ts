/**
 * Validators. isEmail and isCnMobile use patterns written in the subset of regular
 * expressions where JavaScript and PostgreSQL's `~` agree (ASCII classes, no lookaround),
 * so the SQL compiler can send the very same pattern.
 */

export const EMAIL_PATTERN = '^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}$';
export const CN_MOBILE_PATTERN = '^(?:\\+?86)?1[3-9][0-9]{9}$';
/** Characters ignored in a mobile number, as a bracket expression both engines read alike. */
export const CN_MOBILE_SEPARATORS = '[ -]';

const EMAIL = new RegExp(EMAIL_PATTERN);
const CN_MOBILE = new RegExp(CN_MOBILE_PATTERN);
const SEPARATORS = new RegExp(CN_MOBILE_SEPARATORS, 'g');

export function isEmail(v: unknown): boolean {
  return typeof v === 'string' && EMAIL.test(v);
}

export function isCnMobile(v: unknown): boolean {
  return typeof v === 'string' && CN_MOBILE.test(v.replace(SEPARATORS, ''));
}

/**
 * 统一社会信用代码, GB 32100-2015: 18 characters over the 31-character alphabet below
 * (digits and capitals without I, O, S, V, Z), where the 18th is the check character:
 * c18 = 31 − (Σ value(c_i) × 3^(i−1) mod 31) mod 31, for i = 1..17.
 */
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = Array.from({ length: 17 }, (_, i) => {
  let w = 1;
  for (let k = 0; k < i; k++) w = (w * 3) % 31;
  return w;
});

export function isCnCreditCode(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const code = v.trim().toUpperCase();
  if (code.length !== 18) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const value = ALPHABET.indexOf(code[i]!);
    if (value < 0) return false;
    sum += value * WEIGHTS[i]!;
  }
  const check = (31 - (sum % 31)) % 31;
  return code[17] === ALPHABET[check];
}
