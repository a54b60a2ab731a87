/**
 * Pure time arithmetic of the scheduler: which slots of a cron expression fall in a window, and how long to
 * wait before the next attempt. No I/O, no clock: callers pass `now`, so tests can walk a simulated day.
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

export interface BackoffPolicy {
  baseSeconds: number;
  maxSeconds: number;
}

/**
 * Delay before attempt `attempt + 1` after `attempt` failed: exponential (base · 2^(attempt−1)), capped, with
 * "equal jitter" — half fixed, half random — so schedulers that failed together do not retry together, yet
 * no retry comes sooner than half the nominal delay. `random` is injectable for tests.
 */
export function backoffSeconds(
  attempt: number,
  p: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const nominal = Math.min(p.maxSeconds, p.baseSeconds * 2 ** Math.max(0, attempt - 1));
  return nominal / 2 + (nominal / 2) * random();
}
