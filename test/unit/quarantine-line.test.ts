/**
 * A stored quarantine row as `ruralhub quarantine` shows it (src/cli/commands/quarantine-display.ts): the column as
 * the file headed it, or the feed's name for it for a run recorded before headers were kept; the explanation where
 * no connector wrote a detail; every place an ID could be shown masked.
 */
import { describe, expect, it } from 'vitest';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import { quarantineLine } from '../../src/cli/commands/quarantine-display.ts';

const stored = {
  run_id: 7,
  feed: 'roster',
  source: 'roster.xlsx',
  sheet: '花名册',
  row_number: 5,
  field: 'identified_on',
  raw_value: '2026-02-30',
  problem: 'date_unparseable',
  detail: null,
};

describe('a quarantine line', () => {
  it('names the column as the file headed it and says what was expected', () => {
    expect(quarantineLine(stored, FEEDS.roster.fields.identified_on, '识别日期')).toEqual({
      ...stored,
      header: '识别日期',
      detail: '没有这一天：2026年2月只有28天，没有30日',
    });
  });

  it("falls back to the feed's name for the column for a run that kept no headers", () => {
    expect(quarantineLine(stored, FEEDS.roster.fields.identified_on, null).header).toBe('识别时间');
    expect(quarantineLine({ ...stored, feed: 'gone' }, undefined, null)).toMatchObject({
      header: 'identified_on',
      detail: '没有这一天：2026年2月只有28天，没有30日',
    });
  });

  it('masks an ID wherever it could be shown: value, stored detail, file and sheet name', () => {
    const row = quarantineLine(
      {
        ...stored,
        source: '431226197001015552张三.xlsx',
        sheet: '4.31226197001016E+17',
        field: 'id_number',
        raw_value: '4.31226197001016E+17',
        problem: 'ragged_row',
        detail: 'expected 6 columns, found 7: 甲,431226197001015552,…',
      },
      FEEDS.roster.fields.id_number,
      '证件号',
    );
    expect(row).toMatchObject({
      source: '4312**********5552张三.xlsx',
      sheet: '4.312***********E+17',
      header: '证件号',
      raw_value: '4.312***********E+17',
      detail: 'expected 6 columns, found 7: 甲,4312**********5552,…',
    });
  });
});
