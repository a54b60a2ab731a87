/**
 * Pure time arithmetic of the scheduler: which slots of a cron expression fall in a window (the wait before a
 * retry is core/backoff.ts). No I/O, no clock: callers pass `now`, so tests can walk a simulated day.
 */
import { CronExpressionParser } from 'cron-parser';

/** Slot times of `cron` in (from, to], oldest first, evaluated in `timeZone`. */
export function slotsBetween(cron: string, from: Date, to: Date, timeZone: string): Date[] {
  if (to <= from) return [];
  const it = CronExpressionParser.parse(cron, { currentDate: from, endDate: to, tz: timeZone });
  const out: Date[] = [];
  while (it.hasNext()) {
    const d = it.next().toDate();
    if (d > from && d <= to) out.push(d);
  }
  return out;
}

/** The next slot strictly after `after`. */
export function nextSlot(cron: string, after: Date, timeZone: string): Date {
  return CronExpressionParser.parse(cron, { currentDate: after, tz: timeZone }).next().toDate();
}
