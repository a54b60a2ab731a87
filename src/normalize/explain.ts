/**
 * What was expected of a rejected value, in one line a department's clerk can act on: the `detail` of a
 * quarantine row (`ruralhub quarantine`). Derived from the problem code, the field's declaration and the raw value,
 * so the code stays the closed vocabulary both normalizer twins produce (schemas/vocabulary.ts PROBLEM_CODES) and
 * the explanation is the same whichever twin rejected the value — and whenever the row was quarantined.
 *
 * Nothing here quotes an ID number or any of its digits beyond the first two (which its mask shows anyway). In
 * particular the expected check character of an `id_bad_checksum` is not given: it is computed from the 17 digits
 * before it, of which the mask hides ten (region and birth date), so it would add one equation on those hidden
 * digits to what the mask shows; and a clerk told "should be 7" is led to change the last character, when the
 * usual cause is one mistyped digit among the first 17 — an ID "corrected" so would pass every check and be
 * someone else's.
 */

import { charClass, halfWidth, WHITESPACE } from '../../core/chars.ts';
import type { FieldSpec } from '../../schemas/feed.ts';
import { isProblemCode, type ProblemCode } from '../../schemas/vocabulary.ts';
import { cleanIdNumber, PROVINCE_PREFIXES } from './id-number.ts';
import { BOOLEAN_FALSE, BOOLEAN_TRUE, DATE_SERIAL } from './patterns.ts';

const EDGE_SPACE = new RegExp(`^${charClass(WHITESPACE)}+|${charClass(WHITESPACE)}+$`, 'g');

const MONEY_EXPECTED = '应为以元为单位的金额，如 1234.50、1,234.50、¥1234 或 1234元';
const INTEGER_EXPECTED = '应为整数（至多9位），如 3';
const YEAR_EXPECTED = '应为1900–2100之间的年份，如 2026、2026年 或 2026年度';

/** The example forms a date may take (DOMAIN §5.3), as every date message names them. */
const DATE_FORMS = '2026-05-01、2026/5/1、2026年5月1日 或 20260501';

/**
 * One line saying what was expected instead of `raw` in a field declared as `spec`, for `problem`; null for a
 * problem explained where it is found (a ragged row: the connector writes its own detail) or a code this version
 * does not know (an older row's).
 */
export function explainProblem(
  problem: string,
  spec: FieldSpec | undefined,
  raw: string | null,
): string | null {
  if (!isProblemCode(problem)) return null;
  return EXPLAIN[problem](spec, raw ?? '');
}

type Explain = (spec: FieldSpec | undefined, raw: string) => string | null;

const EXPLAIN: Readonly<Record<ProblemCode, Explain>> = {
  id_missing: () => '身份证号为空：应填18位身份证号码',
  id_sci_notation: () =>
    '身份证号被存成了数字（科学计数法），后几位已丢失、无法恢复：请把该列设为文本格式，重新填写完整的18位号码',
  id_bad_format: (_, raw) => {
    const c = cleanIdNumber(raw);
    const other = /[^0-9X]/.test(c) ? '，含数字和末位X以外的字符' : '';
    return `应为18位（前17位数字，末位数字或X）或15位数字，实为${[...c].length}个字符${other}`;
  },
  id_bad_region: (_, raw) =>
    `前两位应为省级行政区代码（${provinceRanges()}），实为${cleanIdNumber(raw).slice(0, 2)}`,
  id_bad_birth_date: () => '第7–14位应为出生日期（年月日），这里不是存在的日期或早于1900年：请对照证件核对',
  id_future_birth_date: () => '第7–14位的出生日期晚于导入当天：请对照证件核对',
  id_bad_checksum: () =>
    '第18位（校验位）与前17位算出的不符：多为前17位中有一位抄错，请对照证件核对全部18位，不要只改末位',
  name_missing: () => '姓名为空：必填',
  date_unparseable: (_, raw) => explainDate(raw),
  date_ambiguous: () => `日、月顺序无法判断（可读作两个日期）：应写成年在前，如 ${DATE_FORMS}`,
  date_missing: () => `日期为空：必填，如 ${DATE_FORMS}`,
  money_unparseable: () => MONEY_EXPECTED,
  money_out_of_range: () => '金额达一万亿元以上：应为以元为单位的金额（多为错列，或填入了证件号）',
  number_unparseable: (spec) => (spec?.type.kind === 'year' ? YEAR_EXPECTED : INTEGER_EXPECTED),
  value_not_in_vocabulary: (spec) => {
    const accepted = acceptedValues(spec);
    return accepted ? `应为以下之一${accepted}` : null;
  },
  value_missing: (spec) => {
    const accepted = acceptedValues(spec);
    if (accepted) return `为空：必填，应为以下之一${accepted}`;
    if (spec?.type.kind === 'money') return `为空：必填，${MONEY_EXPECTED}（没有就填0）`;
    if (spec?.type.kind === 'integer') return `为空：必填，${INTEGER_EXPECTED}`;
    if (spec?.type.kind === 'year') return `为空：必填，${YEAR_EXPECTED}`;
    return '为空：必填';
  },
  region_unknown: () =>
    '县行政区划表中没有这个名称或代码（村在所填乡镇之下查找）：请核对写法，或用 ruralhub regions 补充区划表',
  region_ambiguous: () => '同一上级之下有不止一个这个名称的区划：请改填村代码，或写全称',
  ragged_row: () => null,
  // Found in staging for the columns whose cells held bytes the file's encoding cannot decode (shown as �).
  text_damaged: () =>
    '有字节无法按文件的编码解读（显示为�）：请在原软件中把文件另存为 UTF-8 或 GB18030 编码后重新提供',
};

/**
 * The accepted spellings of a closed vocabulary, grouped by value: '（括号内为同义写法）：脱贫户（脱贫人口、…）；监测户（…）'.
 * The canonical value (alleviated) is what the warehouse stores, not a spelling a file may use: it is not listed.
 */
function acceptedValues(spec: FieldSpec | undefined): string | null {
  const t = spec?.type;
  if (t?.kind === 'boolean')
    return `：${BOOLEAN_TRUE.join('、')}（为是）；${BOOLEAN_FALSE.join('、')}（为否）`;
  if (t?.kind !== 'enum') return null;
  const groups = Object.values(t.values).map(([first, ...others]) =>
    others.length ? `${first}（${others.join('、')}）` : (first ?? ''),
  );
  return `（括号内为同样接受的写法）：${groups.join('；')}`;
}

/** The province prefixes an ID may start with, as ranges: '11–15、21–23、…'. */
function provinceRanges(): string {
  const codes = [...PROVINCE_PREFIXES].map(Number).sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const c of codes) {
    const run = runs.at(-1);
    if (run && run.at(-1) === c - 1) run.push(c);
    else runs.push([c]);
  }
  return runs.map((r) => (r.length > 1 ? `${r[0]}–${r.at(-1)}` : `${r[0]}`)).join('、');
}

/** The year, month and day a date was written with, in every form the twins read (src/normalize/patterns.ts). */
const YMD_PARTS = /^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})(?![0-9])/;
const COMPACT_PARTS = /^([0-9]{4})([0-9]{2})([0-9]{2})$/;

/**
 * Why a date-looking value was not a date: a day its month does not have ('2026-02-30': no such day), a 13th
 * month, a year before 1900, or a form not read at all (then the forms that are).
 */
export function explainDate(raw: string): string {
  const s = raw.replace(EDGE_SPACE, '').replace(/[０-９]/g, halfWidth);
  const m = YMD_PARTS.exec(s) ?? COMPACT_PARTS.exec(s);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (y < 1900) return `没有这一天：年份${y}早于1900年`;
    if (mo < 1 || mo > 12) return `没有这一天：月份应为1–12，没有${mo}月`;
    const last = new Date(Date.UTC(y, mo, 0)).getUTCDate();
    if (d < 1 || d > last) return `没有这一天：${y}年${mo}月只有${last}天，没有${d}日`;
    return `年月日可读，其后的时间无法识别：应为日期，如 ${DATE_FORMS}（可带时间，如 2026-05-01 08:30）`;
  }
  if (new RegExp(DATE_SERIAL).test(s))
    return `Excel日期序号超出范围（早于1900年）：应为日期，如 ${DATE_FORMS}`;
  return `应为日期，如 ${DATE_FORMS}`;
}
