/** Date arithmetic of the demo's department records: ISO dates (YYYY-MM-DD) and births (YYYYMMDD). */

const DAY = 86_400_000;

/** ISO date `days` before `asOf` (after it, for a negative count). */
export const daysBefore = (asOf: string, days: number) =>
  new Date(Date.parse(`${asOf}T00:00:00Z`) - days * DAY).toISOString().slice(0, 10);

/** ISO date of `asOf` moved back whole months (PostgreSQL's interval arithmetic: clamp the day). */
export function monthsBefore(asOf: string, months: number): string {
  const [y, m, d] = asOf.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) - months;
  const yy = Math.floor(total / 12);
  const mm = (total % 12) + 1;
  const last = new Date(Date.UTC(yy, mm, 0)).getUTCDate();
  return `${yy}-${String(mm).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/** 2026-11-20 → 20261120. */
export const ymdOf = (iso: string) => iso.replace(/-/g, '');

/** Age in whole years at the ISO date `asOf`, from a birth YYYYMMDD. */
export const ageAt = (birth: string, asOf: string) =>
  Number(asOf.slice(0, 4)) - Number(birth.slice(0, 4)) - (ymdOf(asOf).slice(4) < birth.slice(4) ? 1 : 0);

/** The first day of the month after the one `iso` falls in. */
export const nextMonthOf = (iso: string) => monthsBefore(`${iso.slice(0, 8)}01`, -1);
