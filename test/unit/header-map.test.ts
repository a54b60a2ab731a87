import { describe, expect, it } from 'vitest';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import { headerDetector, locateFields, mapHeader } from '../../src/normalize/header-map.ts';

describe('header mapping', () => {
  it('finds the columns under the spellings government templates add: markers, colons, notes, full-width', () => {
    const header = [
      '★户主姓名',
      '户主身份证号码(18位)',
      ' 灾种 ',
      '【必填】受灾日期：',
      '直接经济损失（元）',
      '备注',
    ];
    expect(locateFields(FEEDS.disasters, header)).toMatchObject({
      head_name: 0,
      head_id_number: 1,
      disaster_type: 2,
      hit_on: 3,
      loss: 4,
    });
    expect(headerDetector(FEEDS.disasters)(header)).toBe(true);
    expect(mapHeader(FEEDS.disasters, header, 'f.csv').unmapped).toEqual(['备注']);
    // each field's header cell as the file spelled it (trimmed): what a message about its values names
    expect(mapHeader(FEEDS.disasters, header, 'f.csv').headers).toEqual({
      head_name: '★户主姓名',
      head_id_number: '户主身份证号码(18位)',
      disaster_type: '灾种',
      hit_on: '【必填】受灾日期：',
      loss: '直接经济损失（元）',
    });
  });

  it('prefers an exact header over one that only matches once its note is removed', () => {
    const header = ['姓名', '身份证号(户主)', '身份证号', '户主身份证号', '救助类型', '状态'];
    const cols = locateFields(FEEDS.assistance, header);
    expect(cols.id_number).toBe(2);
    expect(cols.head_id_number).toBe(3);
  });

  it('masks the IDs of a record taken for the header in its error', () => {
    expect(() =>
      mapHeader(FEEDS.deaths, ['张三', '431226197001015552', '4.31226197001016E+17'], 'd.csv'),
    ).toThrow('Headers found: 张三, 4312**********5552, 4.312***********E+17.');
  });

  it('knows the common spellings of an ID column in every feed', () => {
    for (const h of ['身份证件号码', '公民身份证号码', '公民身份证号', '居民身份证号码', '证件号']) {
      expect(locateFields(FEEDS.deaths, ['姓名', h, '死亡日期']).id_number).toBe(1);
      expect(locateFields(FEEDS.housing, ['户主姓名', `户主${h}`, '房屋安全等级']).head_id_number).toBe(1);
    }
  });

  it('names an alias the config repeats from the built-in ones once among those it tried', () => {
    expect(() => mapHeader(FEEDS.deaths, ['姓名'], 'd.csv', { died_on: ['死亡日期'] })).toThrow(
      /died_on \(tried: 死亡日期, 死亡时间\)/,
    );
  });

  it('names the file, the feed, each missing required column and the aliases it tried for it', () => {
    expect(() => mapHeader(FEEDS.deaths, ['姓名', '死亡日期'], 'deaths.csv')).toThrow(
      /deaths\.csv: required columns missing for feed deaths: id_number \(tried: 公民身份号码, 身份证号/,
    );
  });
});
