/**
 * The one ID mask (src/normalize/mask.ts) over every form a department's ID reaches the screen in, with a
 * sentinel ID whose hidden digits (region 431226, birth date 19700101) are tested never to show: the plain number,
 * spaced, full-width, Excel's scientific notation as xlsx, .xls and CSV writers spell it, truncated, over-long,
 * quoted in free text and deep in a JSON answer. Whatever the form, what is shown is at most what the masked
 * valid ID shows: its first 4 and last 4 characters.
 */
import { describe, expect, it } from 'vitest';
import { maskDeep } from '../../src/http/mask-json.ts';
import {
  maskIdColumnValue,
  maskIdNumber,
  maskIdNumberFields,
  maskIdsInText,
} from '../../src/normalize/mask.ts';

/** 431226 19700101 555 2: a valid ID (check character 2), its last four 5552 sharing no three digits with the middle. */
const ID = '431226197001015552';
/** Every three digits in a row of what the mask hides (positions 5–14): none may appear in a masked form. */
const HIDDEN = [...'2619700101'].slice(0, -2).map((_, i) => '2619700101'.slice(i, i + 3));

const FORMS = [
  ID,
  '4312 2619 7001 0155 52',
  '４３１２２６１９７００１０１５５５２',
  '43122619700101555x',
  // Excel's scientific notation: xlsx as LibreOffice writes the cell, as read back, from .xls, CSV of Excel
  '4.31226197001015E+017',
  '4.31226197001015E+17',
  '4.312261970010155E+17',
  '4.3122619700101555E+17',
  '4.31226197001015e17',
  '4,31226197001015E+17',
  // an ID cut short or with a digit too many
  '43122619700101555',
  '4312261970010155521',
];

/**
 * Cut to 14 digits: masked where it is known to be an ID (its column, a finding's id_number), not in free text,
 * where 14 digits are as often a time stamp (20260501083000) — an ID-like run there has 15 digits or more.
 */
const CUT_SHORT = '43122619700101';

/** The digits a masked text shows, full-width ones as ASCII, without an exponent's. */
const shownDigits = (s: string) => s.normalize('NFKC').replace(/[eE][+]?[0-9]+/g, '');

describe('the ID mask, over every form of a sentinel ID', () => {
  it.each(FORMS)('%s shows none of the hidden digits, wherever it is shown', (form) => {
    const shown = [
      maskIdNumber(form),
      maskIdColumnValue(form),
      maskIdsInText(`第12行 ${form} 无法识别`),
      maskIdsInText(`"张三",${form},监测户`),
      JSON.stringify(maskDeep({ raw_value: form, rows: [{ detail: `证件号码 ${form}` }] })),
      JSON.stringify(maskIdNumberFields({ id_number: form, head_id_number: form })),
    ];
    for (const s of shown) for (const h of HIDDEN) expect(shownDigits(s)).not.toContain(h);
  });

  it(`${CUT_SHORT}, cut short, shows none of them where it is known to be an ID`, () => {
    const shown = [
      maskIdNumber(CUT_SHORT),
      maskIdColumnValue(CUT_SHORT),
      JSON.stringify(maskIdNumberFields({ id_number: CUT_SHORT })),
    ];
    for (const s of shown) for (const h of HIDDEN) expect(shownDigits(s)).not.toContain(h);
  });

  it("keeps a valid ID's first 4 and last 4 characters and its length, spaces in place", () => {
    expect(maskIdNumber(ID)).toBe('4312**********5552');
    expect(maskIdNumber('4312 2619 7001 0155 52')).toBe('4312 **** **** **55 52');
    expect(maskIdsInText(`证件 ${ID}。`)).toBe('证件 4312**********5552。');
    expect(maskIdNumber('11010519491231002X')).toBe('1101**********002X');
  });

  it('masks scientific notation the same way in every place: the first 4 digits and the exponent kept', () => {
    // LibreOffice's <v>4.31226197001015E+017</v>, read back as 4.31226197001015E+17; a .xls gives 16 digits.
    expect(maskIdNumber('4.31226197001015E+17')).toBe('4.312***********E+17');
    expect(maskIdColumnValue('4.31226197001015E+17')).toBe('4.312***********E+17');
    expect(maskIdsInText('4.31226197001015E+17')).toBe('4.312***********E+17');
    expect(maskIdsInText('x 4.312261970010155E+17 y')).toBe('x 4.312************E+17 y');
    expect(maskIdNumberFields({ id_number: '4.31226197001015E+17' })).toEqual({
      id_number: '4.312***********E+17',
    });
    // masking what is masked changes nothing
    expect(maskIdNumber('4.312***********E+17')).toBe('4.312***********E+17');
    expect(maskIdsInText('4312**********5552')).toBe('4312**********5552');
    expect(maskIdNumber('4312**********5552')).toBe('4312**********5552');
    expect(maskIdColumnValue('4312**********555X')).toBe('4312**********555X');
  });

  it('keeps only the first 4 digits of an ID cut short or too long: its last digits are its middle ones', () => {
    expect(maskIdNumber('43122619700101555')).toBe('4312*************');
    expect(maskIdColumnValue('43122619700101')).toBe('4312**********');
    expect(maskIdNumber('12345678')).toBe('********');
  });

  it("leaves numbers that are no ID, and an ID column's words, as written", () => {
    expect(maskIdsInText('金额 1.5E+3 元，电话 13800138000')).toBe('金额 1.5E+3 元，电话 13800138000');
    expect(maskIdColumnValue('无')).toBe('无');
    expect(maskIdColumnValue('＝1+1')).toBe('＝1+1');
    expect(maskIdColumnValue('待补录')).toBe('待补录');
  });
});
