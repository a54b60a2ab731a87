import { describe, expect, it } from 'vitest';
import { excelSerialToDate, parseDate } from '../../src/normalize/date.ts';
import { maskIdNumber } from '../../src/normalize/mask.ts';
import { parseMoney } from '../../src/normalize/money.ts';
import { nameKey, normalizeName } from '../../src/normalize/name.ts';
import { parseYear } from '../../src/normalize/year.ts';

/** A parser's two tables: what it reads, to which value, and what it rejects, with which problem. */
function readsAndRejects(
  parse: (raw: string) => { ok: true; value: string } | { ok: false; problem: string } | null,
  read: readonly [string, string][],
  rejected: readonly [string, string][],
): void {
  it.each(read)('%s → %s', (raw, want) => {
    expect(parse(raw)).toEqual({ ok: true, value: want });
  });
  it.each(rejected)('%s is rejected as %s', (raw, problem) => {
    expect(parse(raw)).toEqual({ ok: false, problem });
  });
}

describe('names', () => {
  it.each([
    [' 张 三 ', '张三'],
    ['张\u3000三', '张三'],
    ['买买提•艾力', '买买提·艾力'],
    ['买买提.艾力', '买买提·艾力'],
    ['买买提‧艾力', '买买提·艾力'],
    ['买买提・艾力', '买买提·艾力'],
    ['买买提-艾力', '买买提·艾力'],
    ['Anna-Lena', 'Anna-Lena'],
    ['𠮷野', '𠮷野'],
    ['   ', null],
  ])('normalizeName(%j) = %j', (raw, want) => {
    expect(normalizeName(raw)).toBe(want);
  });

  it('compares traditional and simplified forms as equal', () => {
    expect(nameKey('莊 國強')).toBe(nameKey('庄国强'));
    expect(nameKey('歐陽・娜娜')).toBe('欧阳·娜娜');
    expect(nameKey('𠮷野')).toBe('𠮷野');
  });
});

describe('dates', () => {
  readsAndRejects(
    parseDate,
    [
      ['2023-05-01', '2023-05-01'],
      ['2023/5/1', '2023-05-01'],
      ['20230501', '2023-05-01'],
      ['2023.05.01', '2023-05-01'],
      ['2023年5月1日', '2023-05-01'],
      ['２０２３年５月１日', '2023-05-01'],
      ['45047', '2023-05-01'],
      ['45047.75', '2023-05-01'],
      ['2023-05-01 08:30:00', '2023-05-01'],
      ['2023/5/1 0:00', '2023-05-01'],
      ['2023/05/01 12:30:45', '2023-05-01'],
      ['2023.5.1 8:00', '2023-05-01'],
      ['2023年5月1日 20:00', '2023-05-01'],
      ['2023年5月1日20:00:05', '2023-05-01'],
      ['2023-04-30T20:00:00Z', '2023-05-01'],
      ['2023-05-01T01:00:00+08:00', '2023-05-01'],
      ['2026-05-31 18:30:00+00', '2026-06-01'], // PostgreSQL's own text form
      ['2026-05-31 18:30:00+08', '2026-05-31'],
      ['2023-05-01 08:00:00 +0800', '2023-05-01'],
      ['2023-04-30 20:00:00 UTC', '2023-05-01'],
      ['2023/04/30 20:00:00+00:00', '2023-05-01'],
      ['2023-04-30T20:00Z', '2023-05-01'],
    ],
    [
      ['05/01/2023', 'date_ambiguous'],
      ['1/5/23', 'date_ambiguous'],
      ['23-05-01', 'date_ambiguous'],
      ['2023-02-29', 'date_unparseable'],
      ['2023-13-01', 'date_unparseable'],
      ['明年', 'date_unparseable'],
      ['60', 'date_unparseable'],
      ['2023-05-01 25:00:00+08', 'date_unparseable'],
      ['2023-05-01 08:00:00+15', 'date_unparseable'],
      ['2023-02-29 08:00:00Z', 'date_unparseable'],
    ],
  );

  it('follows Excel around the 1900 leap-year quirk', () => {
    expect(excelSerialToDate(1)).toBe('1900-01-01');
    expect(excelSerialToDate(59)).toBe('1900-02-28');
    expect(excelSerialToDate(60)).toBeNull();
    expect(excelSerialToDate(61)).toBe('1900-03-01');
    expect(excelSerialToDate(44927)).toBe('2023-01-01');
  });

  it('treats empty as absent, not as a problem', () => {
    expect(parseDate('  ')).toBeNull();
    expect(parseMoney('')).toBeNull();
  });
});

describe('years', () => {
  readsAndRejects(
    parseYear,
    [
      ['2026', '2026'],
      ['2026年', '2026'],
      [' 2026年度 ', '2026'],
      ['２０２６', '2026'],
      ['2026.0', '2026'],
    ],
    ['26', '2026-2027', '1899', '2101', '二〇二六', '2026.5'].map((raw) => [raw, 'number_unparseable']),
  );

  it('treats empty as absent', () => {
    expect(parseYear(' ')).toBeNull();
  });
});

describe('money', () => {
  readsAndRejects(
    parseMoney,
    [
      ['¥1,234.50', '1234.50'],
      ['1234.5元', '1234.5'],
      ['RMB 800', '800'],
      ['￥１，２００', '1200'],
      ['-35.00', '-35.00'],
      ['5000元整', '5000'],
      ['1,234,567.8', '1234567.8'],
    ],
    ['12..5', '约300', '1.2.3', '12,00', '1,2345', ',123'].map((raw) => [raw, 'money_unparseable']),
  );
});

describe('mask', () => {
  it('keeps first 4 and last 4 and the length', () => {
    expect(maskIdNumber('11010519491231002X')).toBe('1101**********002X');
    expect(maskIdNumber('12345678')).toBe('********');
  });
});
