import { ProblemError, type FieldError } from '@tessera/metadata';

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * Passwords long enough to pass the length rule that still top every leaked-password list
 * (compared lower-cased). Small on purpose: it catches the obvious, the length rule does
 * the rest, and argon2id makes each guess at what is left expensive.
 */
const COMMON_PASSWORDS = new Set([
  '0123456789', '1234567890', '12345678910', '123456789a', '1111111111', '0000000000', '1q2w3e4r5t', '1qaz2wsx3edc',
  'a123456789', 'aa123456789', 'abc1234567', 'abcdefghij', 'abcd123456', 'admin12345', 'administrator', 'asdfghjkl1',
  'changeme123', 'football123', 'iloveyou12', 'letmein123', 'passw0rd123', 'password1!', 'password12', 'password123',
  'password1234', 'princess123', 'qazwsxedc123', 'qwe1234567', 'qwerty1234', 'qwerty123456', 'qwertyuiop', 'sunshine123',
  'trustno1234', 'welcome123', 'woaini1314', '5201314520', 'zaq12wsxcde', 'tessera123', 'tessera1234', 'p@ssw0rd123',
]);

/** What is wrong with a new password for the account `email`, as field errors under `field` (none: acceptable). */
export function passwordProblems(password: string, email: string | null, field = 'password'): FieldError[] {
  const errors: FieldError[] = [];
  const lower = password.toLowerCase();
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    errors.push({ field, code: 'too_short', message: `at least ${MIN_PASSWORD_LENGTH} characters` });
  }
  if (password.length > MAX_PASSWORD_LENGTH) errors.push({ field, code: 'too_long', message: `at most ${MAX_PASSWORD_LENGTH} characters` });
  const address = email?.trim().toLowerCase();
  if (address && (lower === address || lower === address.split('@')[0])) {
    errors.push({ field, code: 'is_email', message: 'must not be the email address or its name part' });
  }
  if (COMMON_PASSWORDS.has(lower) || /^(.)\1*$/u.test(password)) {
    errors.push({ field, code: 'too_common', message: 'this password is among the most commonly used; choose another' });
  }
  return errors;
}

/** Throws 422 naming every rule the password breaks. */
export function assertPasswordPolicy(password: string, email: string | null, field = 'password'): void {
  const errors = passwordProblems(password, email, field);
  if (errors.length > 0) throw new ProblemError('unprocessable', 'The password does not meet the password policy', errors);
}
