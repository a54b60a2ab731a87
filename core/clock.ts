/** The calendar date (YYYY-MM-DD) of an instant in a time zone (an IANA name). */
export function dayIn(timeZone: string, instant: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(instant);
}

/** Today's calendar date (YYYY-MM-DD) in a time zone: a county's "today" is Beijing time, not UTC. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  return dayIn(timeZone, now);
}

export function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

const PARTS = (timeZone: string) =>
  new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });

function partsIn(timeZone: string, instant: Date): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of PARTS(timeZone).formatToParts(instant)) out[p.type] = p.value;
  return out;
}

/**
 * The one formatter of times a person reads: 'YYYY-MM-DD HH:mm' (with ':ss' when `seconds`, where two events in
 * one minute must be told apart) in the county's zone. The zone is not appended; say it once where it is shown.
 */
export function formatLocal(timeZone: string, instant: Date, o: { seconds?: boolean } = {}): string {
  const p = partsIn(timeZone, instant);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${o.seconds ? `:${p.second}` : ''}`;
}

/** A time for machines (JSON, CSV, the API): ISO 8601 with the zone's offset, e.g. '2026-12-02T01:00:00+08:00'. */
export function isoLocal(timeZone: string, instant: Date): string {
  const p = partsIn(timeZone, instant);
  const wall = Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!);
  const minutes = Math.round((wall - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${off}`;
}

/** '2026-12-01 17:03:05 (Asia/Shanghai)': a moment as a person in the county reads it, the zone named. */
export function localTimeIn(timeZone: string, now: Date = new Date()): string {
  return `${formatLocal(timeZone, now, { seconds: true })} (${timeZone})`;
}
