/**
 * Every load normalizes in SQL (src/warehouse/functions); the TypeScript twins in src/normalize are the reference,
 * and read single values outside a load (department answers, person lookups). Both must give the same answer for
 * the same input: every case of the unit tests plus generated dirty values go through both. The SQL normalizers
 * without a twin (integers, yes/no) are held to stated answers.
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBoolean } from '../../src/normalize/boolean.ts';
import { parseDate } from '../../src/normalize/date.ts';
import { idCheckChar, normalizeIdNumber } from '../../src/normalize/id-number.ts';
import { parseInteger } from '../../src/normalize/integer.ts';
import { parseMoney } from '../../src/normalize/money.ts';
import { nameKey, normalizeName } from '../../src/normalize/name.ts';
import { normalizeText, textKey } from '../../src/normalize/text.ts';
import { parseYear } from '../../src/normalize/year.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testWarehouse } from '../support/warehouse.ts';

let wh: Warehouse;
beforeAll(async () => {
  wh = await testWarehouse('normalize_sql');
});
afterAll(async () => wh?.close());

const TODAY = '2026-11-24';

/** Runs one SQL function over many inputs in a single round trip, in input order. */
async function sqlMap(
  fn: 'id' | 'name' | 'name_key' | 'date' | 'money' | 'year' | 'integer' | 'boolean' | 'text' | 'key',
  inputs: string[],
) {
  const call = {
    id: sql<string | null>`rh_id(v, ${TODAY}::text)`,
    name: sql<string | null>`rh_name(v)`,
    name_key: sql<string | null>`rh_name_key(v)`,
    date: sql<string | null>`rh_date(v, 'Asia/Shanghai')`,
    money: sql<string | null>`rh_money(v)`,
    year: sql<string | null>`rh_year(v)`,
    integer: sql<string | null>`rh_integer(v)`,
    boolean: sql<string | null>`rh_boolean(v)`,
    text: sql<string | null>`rh_text(v)`,
    key: sql<string | null>`rh_key(v)`,
  }[fn];
  const { rows } = await sql<{ out: string | null }>`
    SELECT ${call} AS out FROM unnest(${inputs}::text[]) WITH ORDINALITY AS t(v, i) ORDER BY i`.execute(
    wh.db,
  );
  return rows.map((r) => r.out);
}

/** TS results in the SQL convention: value, '!problem' or null. */
const tsId = (v: string) => {
  const r = normalizeIdNumber(v, { today: TODAY });
  return r.status === 'missing' ? null : (r.id ?? `!${r.problem}`);
};
const tsResult = (r: { ok: true; value: string } | { ok: false; problem: string } | null) =>
  r == null ? null : r.ok ? r.value : `!${r.problem}`;

const valid = (seed: number) => {
  const first17 = `4301021${String(980 + (seed % 40)).padStart(3, '0')}0${1 + (seed % 9)}1${seed % 10}${String(seed % 1000).padStart(3, '0')}`;
  return first17 + idCheckChar(first17);
};

/** Edge values for the inlined fast path: leap days, month and day bounds, the future, region. */
const withCheck = (first17: string) => first17 + idCheckChar(first17);
const EDGE_IDS = [
  '11010520000229001', // leap day of a leap century year
  '11010519000229001', // 1900 was not a leap year
  '11010520240229001',
  '11010520230229001',
  '11010519491331001', // month 13
  '11010519490431001', // 31 April
  '11010519490430001',
  '11010518991231001', // before 1900
  '11010520991231001', // future
  '99010519491231001', // region
  '11010519490001001', // month 00
].map(withCheck);

const ID_CASES = [
  ...EDGE_IDS,
  '11010519491231002X',
  '11010519491231002x',
  '１１０１０５１９４９１２３１００２Ｘ',
  ' 110105 1949\t1231 002X ',
  '110105\u200b19491231002X', // a zero-width space pasted from a web page
  "'11010519491231002X",
  '110105491231002',
  '4.30102E+17',
  '4.30102e+17',
  '1101051949123100',
  '990105194912310020',
  '110105194902300021',
  '440524188001010014',
  '110105203001010010',
  '110105194912310021',
  // 残疾人证号 (ID + category + grade), in any feed: valid, dirty, and first 18 characters no valid ID
  '11010519491231002X42',
  ' 11010519491231002x 42',
  '１１０１０５１９４９１２３１００２Ｘ１１',
  '11010519491231002142',
  '99010519491231002042',
  '1101051949123100201',
  '110105194912310020421',
  '11010519491231002X4X',
  '',
  ' ',
  'abc',
  '\u2003110105194912310\u202f02X\ufeff',
  '110105194912310２ｘ',
];

describe('SQL and TypeScript normalizers agree', () => {
  it('on ID numbers, fixed cases and generated dirty forms', async () => {
    const generated = fc.sample(
      fc.tuple(fc.integer({ min: 0, max: 100000 }), fc.integer({ min: 0, max: 5 })).map(([n, k]) => {
        const id = valid(n);
        return [
          id,
          id.toLowerCase(),
          `'${id}`,
          ` ${id.slice(0, 9)}\u3000${id.slice(9)} `,
          id.slice(0, 17) + (((Number(id[17]) || 0) + 1) % 10),
          `${id}1${k}`,
        ][k]!;
      }),
      300,
    );
    const inputs = [...ID_CASES, ...generated];
    expect(await sqlMap('id', inputs)).toEqual(inputs.map(tsId));
  });

  it('on names and name keys', async () => {
    const inputs = [
      ' 张 三 ',
      '买买提•艾力',
      '买买提-艾力',
      'Anna-Lena',
      '莊 國強',
      '歐陽・娜娜',
      '𠮷野',
      '  ',
      '张\u3000三',
    ];
    expect(await sqlMap('name', inputs)).toEqual(inputs.map(normalizeName));
    expect(await sqlMap('name_key', inputs)).toEqual(inputs.map(nameKey));
  });

  it('on dates', async () => {
    const inputs = [
      '2023-05-01',
      '2023/5/1',
      '20230501',
      '2023.05.01',
      '2023年5月1日',
      '２０２３年５月１日',
      '45047',
      '45047.75',
      '2023-05-01 08:30:00',
      '2023/5/1 0:00',
      '2023/05/01 12:30:45',
      '2023.5.1 8:00',
      '2023年5月1日 20:00',
      '2023年5月1日20:00:05',
      '2023-05-0108:00',
      '2023/5/1 25:00',
      '2023-04-30T20:00:00Z',
      '2023-05-01T01:00:00+08:00',
      '2026-05-31 18:30:00+00',
      '2026-05-31 18:30:00+08',
      '2023-05-01 08:00:00 +0800',
      '2023-04-30 20:00:00 UTC',
      '2023/04/30 20:00:00+00:00',
      '2023-04-30T20:00Z',
      '2023-04-30T20:00:00.125+05:30',
      '2023-05-01 25:00:00+08',
      '2023-05-01 08:00:00+15',
      '2023-02-29 08:00:00Z',
      '2023-05-01 08:60:00Z',
      '05/01/2023',
      '1/5/23',
      '23-05-01',
      '2023-02-29',
      '2023-13-01',
      '明年',
      '60',
      '59',
      '61',
      '1',
      '',
      '2024-02-29',
    ];
    const generated = fc.sample(
      fc.date({ min: new Date('1950-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }).map((d) => {
        const [y, m, day] = d.toISOString().slice(0, 10).split('-');
        return `${y}年${Number(m)}月${Number(day)}日`;
      }),
      100,
    );
    const all = [...inputs, ...generated];
    expect(await sqlMap('date', all)).toEqual(all.map((v) => tsResult(parseDate(v))));
  });

  it('on money', async () => {
    const inputs = [
      '¥1,234.50',
      '1234.5元',
      'RMB 800',
      '￥１，２００',
      '-35.00',
      '12..5',
      '约300',
      '',
      '0',
      '5000元整',
      '12,00',
      '1,2345',
      '1,234,567.8',
      ',123',
      '整',
      // within numeric(14,2): cents (rounded half away from zero), below a trillion yuan
      '12.345',
      '12.344',
      '-12.345',
      '-0.004',
      '0.005',
      '1234.5600000000001',
      '0.30000000000000004',
      '¥1,234.565',
      '007.125',
      '999999999999.99',
      '999999999999.995',
      '1000000000000',
      '0000000000001',
      '-1000000000000.5',
      '1,234,567,890,123',
    ];
    expect(await sqlMap('money', inputs)).toEqual(inputs.map((v) => tsResult(parseMoney(v))));
    expect(inputs.slice(-15).map((v) => tsResult(parseMoney(v)))).toEqual([
      '12.35',
      '12.34',
      '-12.35',
      '0.00',
      '0.01',
      '1234.56',
      '0.30',
      '1234.57',
      '7.13',
      '999999999999.99',
      '!money_out_of_range',
      '!money_out_of_range',
      '0000000000001',
      '!money_out_of_range',
      '!money_out_of_range',
    ]);
  });

  it('on years', async () => {
    const inputs = [
      '2026',
      '2026年',
      ' 2026年度 ',
      '２０２６',
      '2026.0',
      '26',
      '2026-2027',
      '1899',
      '2101',
      '2026.5',
      '',
    ];
    expect(await sqlMap('year', inputs)).toEqual(inputs.map((v) => tsResult(parseYear(v))));
  });
});

/** White space of every kind the normalizers strip, and some they keep, around and inside values. */
const SPACED = [
  '',
  ' ',
  '\u3000',
  ' a ',
  '\u200b甲\u200b',
  '\t乙\n',
  'a b',
  '\u00a0x\u00a0',
  '\ufeff1\u2060',
  '·',
];

describe('SQL and TypeScript normalizers agree (integers, yes/no, free text, lookup keys)', () => {
  it('on integers', async () => {
    const inputs = [
      '12',
      ' 1 2 ',
      '\u3000１２\u3000',
      '-3',
      '-0',
      '007',
      '123456789',
      '1234567890',
      '1.5',
      '1,000',
      '三',
      '+1',
      ...SPACED,
    ];
    expect(await sqlMap('integer', inputs)).toEqual(inputs.map((v) => tsResult(parseInteger(v))));
  });

  it('on yes and no', async () => {
    const inputs = [
      '是',
      ' 否 ',
      'yes',
      'Yes',
      'N',
      'True',
      'tRUE',
      '0',
      '1',
      '√',
      '×',
      '安全',
      '不安全',
      '已 消除',
      '未消除',
      '有',
      '2',
      ...SPACED,
    ];
    const ts = inputs.map((v) => {
      const r = parseBoolean(v);
      return r === null ? null : r.ok ? String(r.value) : `!${r.problem}`;
    });
    expect(await sqlMap('boolean', inputs)).toEqual(ts);
  });

  it('on free text and lookup keys', async () => {
    const inputs = [...SPACED, '白云村', ' 白云村 ', 'a\\b', '𠀀 𠀀', '\u2003x\u2003y\u2003'];
    expect(await sqlMap('text', inputs)).toEqual(inputs.map(normalizeText));
    expect(await sqlMap('key', inputs)).toEqual(inputs.map(textKey));
  });
});

describe('the SQL normalizers of integers and yes/no, held to stated answers too', () => {
  it.each<{ fn: 'integer' | 'boolean'; reads: string; cases: [string, string | null][] }>([
    {
      fn: 'integer',
      reads: 'an integer of up to 9 digits, white space and full-width digits allowed',
      cases: [
        ['12', '12'],
        [' 1 2 ', '12'],
        ['\u3000１２\u3000', '12'],
        ['-3', '-3'],
        ['007', '007'],
        ['123456789', '123456789'],
        ['1234567890', '!number_unparseable'],
        ['1.5', '!number_unparseable'],
        ['1,000', '!number_unparseable'],
        ['三', '!number_unparseable'],
        ['', null],
        [' ', null],
      ],
    },
    {
      fn: 'boolean',
      reads: 'a yes or no in the spellings departments use, any case and spacing',
      cases: [
        ['是', 'true'],
        [' 否 ', 'false'],
        ['yes', 'true'],
        ['N', 'false'],
        ['True', 'true'],
        ['0', 'false'],
        ['√', 'true'],
        ['×', 'false'],
        ['安全', 'true'],
        ['不安全', 'false'],
        ['已 消除', 'true'],
        ['未消除', 'false'],
        ['有', '!value_not_in_vocabulary'],
        ['2', '!value_not_in_vocabulary'],
        ['', null],
        ['\u3000', null],
      ],
    },
  ])('read $reads; nothing else', async ({ fn, cases }) => {
    expect(
      await sqlMap(
        fn,
        cases.map(([v]) => v),
      ),
    ).toEqual(cases.map(([, out]) => out));
  });
});
