/**
 * The reference dates of a dry-run backfill (`match --from D1 --to D2 --dry-run [--every day|week|month]`).
 * Pure date arithmetic on 'YYYY-MM-DD' strings in UTC: a calendar date has no time zone, and computing it
 * through local midnights would move a date by one wherever the process's zone has a DST change.
 */
import { isIsoDate } from '../../core/clock.ts';
import { configError } from '../../core/errors.ts';

export const AS_OF_STEPS = ['day', 'week', 'month'] as const;
export type AsOfStep = (typeof AS_OF_STEPS)[number];

/** A backfill runs every rule once per date: more dates than this is a mistake, not a backfill (~13 months daily). */
export const MAX_AS_OF_DATES = 400;

/** Up to this many dates in the range (both ends counted), the default step is a day; beyond, a month. */
export const DAILY_UP_TO = 31;

const DAY_MS = 86_400_000;
const utc = (d: string) => Date.parse(`${d}T00:00:00Z`);
const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The date `n` days after `d`. */
export function addDays(d: string, n: number): string {
  return ymd(utc(d) + n * DAY_MS);
}

/** The 1st of the month after `d`'s month. */
export function firstOfNextMonth(d: string): string {
  const year = Number(d.slice(0, 4));
  const month = Number(d.slice(5, 7));
  const [y, m] = month === 12 ? [year + 1, 1] : [year, month + 1];
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-01`;
}

/** Dates from `from` to `to`, both counted (1 when they are the same day). */
export function daysInRange(from: string, to: string): number {
  return Math.round((utc(to) - utc(from)) / DAY_MS) + 1;
}

/** The step when none is given: every day over a month or less, else the 1st of each month. */
export function defaultStep(from: string, to: string): AsOfStep {
  return daysInRange(from, to) <= DAILY_UP_TO ? 'day' : 'month';
}

/**
 * The as-of dates of a backfill: `from`, then one step after another while the date is on or before `to`.
 * A day or a week adds 1 or 7 days; a month goes to the 1st of each following month (so `from` 2026-01-15 gives
 * 2026-01-15, 2026-02-01, 2026-03-01 …: no 31st to clamp, and monthly reports are as of the 1st). `to` itself
 * is a date only when a step lands on it. A configuration error (exit 2) for a date that is no date, `from`
 * after `to`, an unknown step, or more than MAX_AS_OF_DATES dates.
 */
export function asOfDates(from: string, to: string, every?: string): { dates: string[]; every: AsOfStep } {
  for (const [flag, d] of [
    ['--from', from],
    ['--to', to],
  ] as const) {
    if (!isIsoDate(d)) throw configError(`${flag}: expected a date as YYYY-MM-DD, got '${d}'`);
  }
  if (from > to) throw configError(`--from ${from} is after --to ${to}`);
  const step = every ?? defaultStep(from, to);
  if (!(AS_OF_STEPS as readonly string[]).includes(step)) {
    throw configError(`--every: expected one of ${AS_OF_STEPS.join(', ')}, got '${step}'`);
  }
  const s = step as AsOfStep;
  const next = (d: string) =>
    s === 'day' ? addDays(d, 1) : s === 'week' ? addDays(d, 7) : firstOfNextMonth(d);
  const dates: string[] = [];
  // Stops at the first date past the limit: a range of centuries by day is refused without being listed.
  for (let d = from; d <= to; d = next(d)) {
    if (dates.length === MAX_AS_OF_DATES) {
      throw configError(
        `${from} to ${to} every ${s} is more than ${MAX_AS_OF_DATES} dates: choose a shorter range or a longer step (--every week|month)`,
      );
    }
    dates.push(d);
  }
  return { dates, every: s };
}
