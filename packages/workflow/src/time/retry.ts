/**
 * Backoff between attempts of a failing service task. Exponential (initialDelay, doubled per
 * retry) so a receiver that is down is not hammered, capped at one hour so a step recovers
 * within the hour once the receiver is back. The optional jitter key spreads retries of many
 * instances that failed together (a receiver's outage) over up to 20% more delay, and is
 * deterministic so a step's schedule is reproducible in tests and after a restart.
 */
import type { RetryPolicy } from '../model/types';
import { isoDurationMs } from './duration';

export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_INITIAL_DELAY = 'PT10S';
export const MAX_RETRY_DELAY_MS = 3_600_000;

/** attempts in all, the first included */
export function retryMaxAttempts(policy: RetryPolicy | undefined): number {
  const n = policy?.maxAttempts;
  return n !== undefined && Number.isInteger(n) && n >= 1 ? n : DEFAULT_MAX_ATTEMPTS;
}

/** FNV-1a, mapped to [0, 1) */
function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 0x1_0000_0000;
}

/** ms to wait before retry number `attempt` (1 = the first retry, i.e. before the second attempt) */
export function retryDelayMs(policy: RetryPolicy | undefined, attempt: number, jitterKey?: string): number {
  const initial = isoDurationMs(policy?.initialDelay ?? DEFAULT_INITIAL_DELAY);
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2^exponent overflows to Infinity long after the cap; Math.min keeps the cap
  let delay = Math.min(MAX_RETRY_DELAY_MS, initial * 2 ** Math.min(exponent, 64));
  if (jitterKey !== undefined) delay = Math.min(MAX_RETRY_DELAY_MS, Math.round(delay * (1 + 0.2 * unitHash(`${jitterKey}#${attempt}`))));
  return delay;
}
