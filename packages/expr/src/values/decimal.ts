/**
 * Arithmetic on the exact decimals that numbers are written as, so that 0.1 + 0.2 is 0.3
 * and 19.99 × 3 is 59.97 — money keeps its cents — like PostgreSQL's numeric, which the
 * SQL compiler uses. Each result is rounded once, to the nearest double. Integers that
 * stay safe take a plain fast path (the same answer, since their sums are exact).
 */

/** value = coefficient × 10^-scale */
interface Decimal {
  c: bigint;
  s: number;
}

const NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;

function toDecimal(x: number): Decimal {
  const m = NUMBER.exec(String(x));
  if (!m) throw new Error(`not a finite number: ${x}`);
  const fraction = m[3] ?? '';
  const exponent = m[4] ? Number(m[4]) : 0;
  let c = BigInt(`${m[1]}${m[2]}${fraction}`);
  let s = fraction.length - exponent;
  if (s < 0) {
    c *= 10n ** BigInt(-s);
    s = 0;
  }
  return { c, s };
}

function fromDecimal(d: Decimal): number | null {
  const n = Number(`${d.c}e${-d.s}`);
  return Number.isFinite(n) ? n : null;
}

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const s = Math.max(a.s, b.s);
  return [a.c * 10n ** BigInt(s - a.s), b.c * 10n ** BigInt(s - b.s), s];
}

function digitCount(c: bigint): number {
  return (c < 0n ? -c : c).toString().length;
}

const safe = (...xs: number[]) => xs.every((x) => Number.isSafeInteger(x));

/**
 * The fast path: x as m / 10^k with a small k, when m/10^k is exactly the decimal x is
 * written as. It is if m/10^k rounds back to x and |m| < 2^52: doubles there are closer
 * than 10^-k, so no other decimal of k places rounds to x. Integer arithmetic on such m
 * stays exact below 2^53, and one final IEEE division rounds correctly, so the answer is
 * the one the BigInt path gives.
 */
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];
/** powers of ten up to 10^16 are exact doubles */
const POW10_WIDE = Array.from({ length: 17 }, (_, i) => 10 ** i);
const LIMIT = 2 ** 52;
let scaledM = 0;

function scaled(x: number): number {
  for (let k = 0; k < POW10.length; k++) {
    const m = Math.round(x * POW10[k]!);
    if (Math.abs(m) >= LIMIT) return -1;
    if (m / POW10[k]! === x) {
      scaledM = m;
      return k;
    }
  }
  return -1;
}

function fastAdd(a: number, b: number): number | undefined {
  const ka = scaled(a);
  if (ka < 0) return undefined;
  const ma = scaledM;
  const kb = scaled(b);
  if (kb < 0) return undefined;
  const k = Math.max(ka, kb);
  const sum = ma * POW10[k - ka]! + scaledM * POW10[k - kb]!;
  return Math.abs(sum) < LIMIT ? sum / POW10[k]! : undefined;
}

function fastMul(a: number, b: number): number | undefined {
  const ka = scaled(a);
  if (ka < 0) return undefined;
  const ma = scaledM;
  const kb = scaled(b);
  if (kb < 0) return undefined;
  const product = ma * scaledM;
  return Math.abs(product) < LIMIT ? product / POW10_WIDE[ka + kb]! : undefined;
}

function fastDiv(a: number, b: number): number | undefined {
  const ka = scaled(a);
  if (ka < 0) return undefined;
  const ma = scaledM;
  const kb = scaled(b);
  if (kb < 0) return undefined;
  // a/b = (ma·10^kb) / (mb·10^ka): both exact integers, so one rounding
  const num = ma * POW10[kb]!;
  const den = scaledM * POW10[ka]!;
  return Math.abs(num) < LIMIT && Math.abs(den) < LIMIT ? num / den : undefined;
}

export function decimalAdd(a: number, b: number): number | null {
  if (safe(a, b) && Number.isSafeInteger(a + b)) return a + b;
  const fast = fastAdd(a, b);
  if (fast !== undefined) return fast;
  const [x, y, s] = align(toDecimal(a), toDecimal(b));
  return fromDecimal({ c: x + y, s });
}

export function decimalSub(a: number, b: number): number | null {
  return decimalAdd(a, -b);
}

export function decimalMul(a: number, b: number): number | null {
  if (safe(a, b) && Number.isSafeInteger(a * b)) return a * b;
  const fast = fastMul(a, b);
  if (fast !== undefined) return fast;
  const x = toDecimal(a);
  const y = toDecimal(b);
  return fromDecimal({ c: x.c * y.c, s: x.s + y.s });
}

/** The nearest double to the exact quotient (a sticky digit keeps the rounding honest). */
export function decimalDiv(a: number, b: number): number | null {
  if (b === 0) return null;
  if (safe(a, b)) return a / b;
  const fast = fastDiv(a, b);
  if (fast !== undefined) return fast;
  const [x, y] = align(toDecimal(a), toDecimal(b));
  // ~40 significant digits: a quotient can sit within 1e-32 (relative) of a rounding
  // boundary between two doubles (e.g. -2 / 4503599627370495.5), and the sticky digit only
  // rounds right if the digits before it already separate the two
  const digits = Math.max(40, 40 + digitCount(y) - digitCount(x));
  const scaled = x * 10n ** BigInt(digits);
  const q = scaled / y;
  const sticky = scaled % y === 0n ? 0n : q < 0n || (q === 0n && (x < 0n) !== (y < 0n)) ? -1n : 1n;
  return fromDecimal({ c: q * 10n + sticky, s: digits + 1 });
}

/** Remainder with the dividend's sign, as JS `%` and PostgreSQL do. */
export function decimalMod(a: number, b: number): number | null {
  if (b === 0) return null;
  if (safe(a, b)) return a % b;
  const [x, y, s] = align(toDecimal(a), toDecimal(b));
  return fromDecimal({ c: x % y, s });
}

/** Half away from zero at `digits` decimals (negative: tens, hundreds...), as PostgreSQL's round(numeric, int). */
export function decimalRound(x: number, digits: number): number | null {
  const d = toDecimal(x);
  if (d.s <= digits) return x;
  const unit = 10n ** BigInt(d.s - digits);
  const negative = d.c < 0n;
  const abs = negative ? -d.c : d.c;
  let q = abs / unit;
  if ((abs % unit) * 2n >= unit) q += 1n;
  const n = fromDecimal({ c: negative ? -q : q, s: digits });
  return n === 0 ? 0 : n;
}
