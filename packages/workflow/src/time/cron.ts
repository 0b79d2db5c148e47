/**
 * Cron schedules of scheduled flows: classic 5 fields (minute hour day-of-month month
 * day-of-week), read in an IANA zone (default Asia/Shanghai) so "0 9 * * 1-5" means nine in
 * the morning where the business is, DST included. croner does the calendar work; we pin it to
 * 5-field mode (a 6th seconds field would fire a flow every second) and never let it schedule
 * anything itself: the engine stores the next fire time as a durable job, so a restart neither
 * skips nor doubles a run.
 */
import { Cron } from 'croner';
import { DEFAULT_FLOW_TIMEZONE } from './duration';
import { isTimeZone } from './zone';

function schedule(cron: string, timezone: string): Cron | null {
  if (typeof cron !== 'string' || cron.trim().split(/\s+/).length !== 5) return null;
  try {
    // paused and without a callback, croner only computes; it starts no timer
    return new Cron(cron, { timezone, mode: '5-part', paused: true });
  } catch {
    return null;
  }
}

/** the reason a cron text is refused, or null when it is a 5-field cron in a known zone that fires at least once */
export function cronProblem(cron: string, timezone: string = DEFAULT_FLOW_TIMEZONE): string | null {
  if (!isTimeZone(timezone)) return `"${timezone}" is not an IANA time zone`;
  const job = schedule(cron, timezone);
  if (!job) return `"${cron}" is not a 5-field cron (minute hour day-of-month month day-of-week), e.g. "0 9 * * 1-5"`;
  if (job.nextRun(new Date()) === null) return `"${cron}" never fires`;
  return null;
}

export function isValidCron(cron: string, timezone: string = DEFAULT_FLOW_TIMEZONE): boolean {
  return cronProblem(cron, timezone) === null;
}

/** the first fire strictly after `after`, or null when the cron is invalid or never fires again */
export function nextCronFire(cron: string, timezone: string, after: Date): Date | null {
  const zone = timezone || DEFAULT_FLOW_TIMEZONE;
  if (!isTimeZone(zone)) return null;
  try {
    const job = schedule(cron, zone);
    const next = job?.nextRun(after) ?? null;
    return next && next.getTime() > after.getTime() ? next : null;
  } catch {
    return null;
  }
}
