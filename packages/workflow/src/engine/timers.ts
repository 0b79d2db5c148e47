import type { TimerSpec } from '../model/types';
import { addIsoDuration } from '../time/index';
import { instantOfWall } from '../time/zone';
import { FlowIncident } from './errors';
import type { Step } from './step';

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * When a timer is due: a duration from now (calendar-aware in the engine's zone), or the
 * instant a date expression names (a date alone means its midnight in that zone).
 */
export async function timerDue(step: Step, timer: TimerSpec, nodeId: string): Promise<Date> {
  if (timer.duration) return addIsoDuration(step.now, timer.duration, step.services.timezone);
  if (timer.date !== undefined) {
    const value = await step.evaluate(timer.date);
    const due = toInstant(value, step.services.timezone);
    if (!due) throw new FlowIncident(`the timer date of node "${nodeId}" is not a date: ${JSON.stringify(value ?? null)}`, nodeId);
    return due;
  }
  throw new FlowIncident(`node "${nodeId}" has a timer with neither a duration nor a date`, nodeId);
}

export function toInstant(value: unknown, timezone: string): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value !== 'string') return null;
  const day = DATE_ONLY.exec(value);
  if (day) return new Date(instantOfWall(Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3])), timezone));
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : new Date(t);
}
