/**
 * A quarantined raw value is shown as the department wrote it: kept whole when it comes from staging, and cut
 * only between characters (code points) when it is a row the connector could not read — never inside a
 * surrogate pair (CJK Extension B 𠀀, emoji), whose half would be stored as U+FFFD (`松林�`).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { studentRoll } from '../../pipelines/feeds/student-roll.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { firstChars } from '../../src/normalize/text.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';

const dir = tempDir('ruralhub-raw-');
const base = { log: silentLogger(), today: '2026-11-24', timeZone: 'Asia/Shanghai' };
const HEADER = ['学生姓名', '身份证件号', '学校名称', '学籍状态', '更新日期'];
const TAIL = '松林𠀀𠀁😀';

let wh: Warehouse;
beforeAll(async () => {
  wh = await testWarehouse('raw_value');
});
afterAll(async () => wh?.close());

const quarantined = (runId: number) =>
  wh.db
    .selectFrom('quarantine')
    .select(['row_number', 'field', 'problem', 'raw_value', 'detail'])
    .where('run_id', '=', runId)
    .orderBy('row_number')
    .execute();

describe('a quarantined raw value', () => {
  it('is cut by firstChars between characters, as PostgreSQL left() counts them', () => {
    expect(firstChars('松林𠀀😀', 3)).toBe('松林𠀀');
    expect(firstChars('a𠀀', 2)).toBe('a𠀀');
    expect(firstChars('松林', 5)).toBe('松林');
    expect(firstChars('𠀀𠀀𠀀', 1)).toBe('𠀀');
  });

  it.each([
    ['staged in bulk', false],
    ['read row by row', true],
  ] as const)(
    'from staging (%s) is kept whole, over-long and ending in CJK and astral characters',
    async (_, title) => {
      const long = `${'很长的状态'.repeat(1200)}${TAIL}`;
      const path = writeCsv(join(dir, `long-value-${title ? 'title' : 'bulk'}.csv`), [
        ...(title ? [['示范县学籍名册']] : []), // a title line above the header: the record path
        HEADER,
        ['张三', testId(801), '城关镇中心学校', long, '2026-09-01'],
      ]);
      const s = await importFeed({ ...base, wh, feed: studentRoll, path, force: true });
      expect(s.counts).toMatchObject({ rows_read: 1, rows_quarantined: 1 });
      const [q] = await quarantined(s.runId);
      expect(q).toMatchObject({ field: 'status', problem: 'value_not_in_vocabulary' });
      expect(q!.raw_value).toBe(long);
      expect(q!.raw_value).not.toContain('\uFFFD');
    },
  );

  it('of a row the connector could not read is cut at 4000 characters, never inside one', async () => {
    // A ragged row (one value too many) whose 4000th UTF-16 unit is the first half of 𠀀.
    const cells = ['李四', testId(802), '城关镇中心学校', '在读', '2026-09-01'];
    const head = `${cells.join(',')},`;
    const extra = `${'x'.repeat(4000 - head.length - 3)}${TAIL}${'y'.repeat(10)}`;
    const raw = head + extra;
    expect(raw.charCodeAt(3999)).toBe(0xd840); // String.slice(0, 4000) would split 𠀀
    const path = writeCsv(join(dir, 'ragged-long.csv'), [HEADER, [...cells, extra]]);
    const s = await importFeed({ ...base, wh, feed: studentRoll, path, force: true });
    expect(s.counts).toMatchObject({ rows_read: 1, rows_quarantined: 1 });
    const [q] = await quarantined(s.runId);
    expect(q).toMatchObject({ row_number: 2, problem: 'ragged_row' });
    expect(q!.raw_value).not.toContain('\uFFFD');
    expect(q!.raw_value).toBe([...raw].slice(0, 4000).join(''));
    expect(q!.raw_value!.endsWith('松林𠀀')).toBe(true);
    expect(q!.detail).toMatch(/first 4000 characters kept/);
  });
});
