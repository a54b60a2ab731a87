/**
 * What `ruralhub quarantine` says was expected of a rejected value (src/normalize/explain.ts): one line per
 * problem code, the tester's cases word for word — an impossible calendar day named as such, a closed
 * vocabulary's accepted spellings listed, a bad check character explained without the expected one (it would add
 * an equation on the ten digits the mask hides) — and no line quoting an ID's hidden digits.
 */
import { describe, expect, it } from 'vitest';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import { countyFeed } from '../../pipelines/feeds/resolve.ts';
import type { FieldSpec } from '../../schemas/feed.ts';
import { PROBLEM_CODES } from '../../schemas/vocabulary.ts';
import { explainDate, explainProblem } from '../../src/normalize/explain.ts';

const roster = FEEDS.roster.fields;

describe('what a rejected value should have been', () => {
  it('names an impossible calendar day as no such day, in every form a date is written', () => {
    for (const raw of ['2026-02-30', '2026年2月30日', '2026/2/30', '20260230', ' 2026.02.30 '])
      expect(explainDate(raw)).toBe('没有这一天：2026年2月只有28天，没有30日');
    expect(explainDate('2028-02-30')).toBe('没有这一天：2028年2月只有29天，没有30日');
    expect(explainDate('2026-13-01')).toBe('没有这一天：月份应为1–12，没有13月');
    expect(explainDate('2026-04-31 08:00')).toBe('没有这一天：2026年4月只有30天，没有31日');
    expect(explainDate('1899-12-31')).toBe('没有这一天：年份1899早于1900年');
    expect(explainDate('下月初')).toBe('应为日期，如 2026-05-01、2026/5/1、2026年5月1日 或 20260501');
  });

  it("lists a closed vocabulary's accepted spellings, grouped by value, the county's own included", () => {
    expect(explainProblem('value_not_in_vocabulary', FEEDS.employment.fields.employment_form, '务工')).toBe(
      '应为以下之一（括号内为同样接受的写法）：省内务工（省内就业、县外省内务工）；省外务工（省外就业）；' +
        '公益性岗位（公益岗位）；灵活就业；县内务工（就地就近就业、本地务工）',
    );
    expect(explainProblem('value_missing', roster.household_type, null)).toBe(
      '为空：必填，应为以下之一（括号内为同样接受的写法）：脱贫户（脱贫人口、脱贫不监测户）；' +
        '监测户（监测对象、脱贫户(监测对象)、脱贫监测户）',
    );
    const county = countyFeed(FEEDS.employment, {
      value_aliases: { employment_form: { in_province: ['省内打工'] } },
    });
    expect(explainProblem('value_not_in_vocabulary', county.fields.employment_form, '务工')).toContain(
      '省内务工（省内就业、县外省内务工、省内打工）',
    );
    expect(explainProblem('value_not_in_vocabulary', roster.risk_eliminated, '也许')).toBe(
      '应为以下之一：是、Y、YES、TRUE、1、√、安全、已消除（为是）；否、N、NO、FALSE、0、×、不安全、未消除（为否）',
    );
  });

  it('says what an ID should be without any of its hidden digits, nor the expected check character', () => {
    const id = roster.id_number;
    const bad = '431226197001015553'; // check character 2 expected
    const checksum = explainProblem('id_bad_checksum', id, bad)!;
    expect(checksum).toBe(
      '第18位（校验位）与前17位算出的不符：多为前17位中有一位抄错，请对照证件核对全部18位，不要只改末位',
    );
    expect(explainProblem('id_bad_format', id, '43122619700101555')).toBe(
      '应为18位（前17位数字，末位数字或X）或15位数字，实为17个字符',
    );
    expect(explainProblem('id_bad_region', id, '991226197001015552')).toBe(
      '前两位应为省级行政区代码（11–15、21–23、31–37、41–46、50–54、61–65、71、81–83、91），实为99',
    );
    expect(explainProblem('id_sci_notation', id, '4.31226197001015E+17')).toMatch(
      /^身份证号被存成了数字（科学计数法）/,
    );
    for (const code of PROBLEM_CODES.filter((c) => c.startsWith('id_'))) {
      const line = explainProblem(code, id, bad) ?? '';
      expect(line).not.toMatch(/2261|1970|0101|5553|[^0-9]2$/);
    }
  });

  it('explains every normalizer problem in one line; a ragged row keeps the detail its connector wrote', () => {
    const specOf: Record<string, FieldSpec | undefined> = {
      id: roster.id_number,
      name: roster.name,
      date: roster.identified_on,
      money: roster.income_per_capita,
      number: FEEDS.insurance.fields.year,
      value: roster.household_type,
      region: roster.village,
    };
    for (const code of PROBLEM_CODES) {
      const line = explainProblem(code, specOf[code.split('_')[0]!], 'x');
      if (code === 'ragged_row') expect(line).toBeNull();
      else expect(line).toMatch(/^[^\n]{6,200}$/);
    }
    expect(explainProblem('number_unparseable', FEEDS.insurance.fields.year, '明年')).toBe(
      '应为1900–2100之间的年份，如 2026、2026年 或 2026年度',
    );
    expect(explainProblem('value_missing', FEEDS.settlements.fields.out_of_pocket, '')).toBe(
      '为空：必填，应为以元为单位的金额，如 1234.50、1,234.50、¥1234 或 1234元（没有就填0）',
    );
    expect(explainProblem('no_such_code', roster.name, 'x')).toBeNull();
  });
});
