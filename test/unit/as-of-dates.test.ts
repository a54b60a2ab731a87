import { describe, expect, it } from 'vitest';
import { addDays, asOfDates, daysInRange, firstOfNextMonth } from '../../src/matching/as-of-dates.ts';

describe('the as-of dates of a dry-run backfill', () => {
  it('steps by day over a month or less, and by month (the 1st) beyond, by default', () => {
    expect(asOfDates('2026-08-30', '2026-09-02')).toEqual({
      dates: ['2026-08-30', '2026-08-31', '2026-09-01', '2026-09-02'],
      every: 'day',
    });
    // 31 dates, both ends counted: still daily; 32: monthly.
    expect(asOfDates('2026-01-01', '2026-01-31').dates).toHaveLength(31);
    expect(asOfDates('2026-01-01', '2026-02-01')).toEqual({
      dates: ['2026-01-01', '2026-02-01'],
      every: 'month',
    });
    expect(asOfDates('2026-01-15', '2026-04-30').dates).toEqual([
      '2026-01-15',
      '2026-02-01',
      '2026-03-01',
      '2026-04-01',
    ]);
    expect(asOfDates('2026-05-07', '2026-05-07')).toEqual({ dates: ['2026-05-07'], every: 'day' });
  });

  it('steps by week or month when asked, crossing months, years and leap days in UTC', () => {
    expect(asOfDates('2026-12-20', '2027-01-12', 'week').dates).toEqual([
      '2026-12-20',
      '2026-12-27',
      '2027-01-03',
      '2027-01-10',
    ]);
    expect(asOfDates('2027-11-01', '2028-03-01', 'month').dates).toEqual([
      '2027-11-01',
      '2027-12-01',
      '2028-01-01',
      '2028-02-01',
      '2028-03-01',
    ]);
    expect(asOfDates('2028-02-27', '2028-03-01', 'day').dates).toEqual([
      '2028-02-27',
      '2028-02-28',
      '2028-02-29',
      '2028-03-01',
    ]);
    // The DST changes of zones that have them (Europe: 29 Mar and 25 Oct 2026) move no date.
    expect(addDays('2026-03-28', 1)).toBe('2026-03-29');
    expect(addDays('2026-03-29', 1)).toBe('2026-03-30');
    expect(addDays('2026-10-25', 1)).toBe('2026-10-26');
    expect(daysInRange('2026-03-01', '2026-11-01')).toBe(246);
    expect(firstOfNextMonth('2026-12-31')).toBe('2027-01-01');
    expect(firstOfNextMonth('2026-01-31')).toBe('2026-02-01');
  });

  it('takes exactly 400 dates and refuses a 401st, bad dates, a reversed range and an unknown step', () => {
    expect(asOfDates('2026-01-01', addDays('2026-01-01', 399), 'day').dates).toHaveLength(400);
    expect(() => asOfDates('2026-01-01', addDays('2026-01-01', 400), 'day')).toThrow(/more than 400 dates/);
    expect(() => asOfDates('1900-01-01', '2100-01-01', 'day')).toThrow(/more than 400 dates/);
    // Two centuries by month are 2401 dates: refused too, without listing them all.
    expect(() => asOfDates('1900-01-01', '2100-01-01')).toThrow(/every month is more than 400 dates/);
    expect(asOfDates('2000-01-01', '2033-04-01').dates).toHaveLength(400);
    expect(() => asOfDates('2026-02-30', '2026-03-01')).toThrow(
      "--from: expected a date as YYYY-MM-DD, got '2026-02-30'",
    );
    expect(() => asOfDates('2026-03-01', '26-3-2')).toThrow(
      "--to: expected a date as YYYY-MM-DD, got '26-3-2'",
    );
    expect(() => asOfDates('2026-03-02', '2026-03-01')).toThrow('--from 2026-03-02 is after --to 2026-03-01');
    expect(() => asOfDates('2026-03-01', '2026-03-02', 'year')).toThrow(
      "--every: expected one of day, week, month, got 'year'",
    );
  });
});
