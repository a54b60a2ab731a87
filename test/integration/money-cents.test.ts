/**
 * Money as the tables store it, numeric(14,2): rounded to cents by the normalizer (so the row's hash is taken
 * over what is stored), a trillion yuan or more quarantined instead of failing the load; and migration 0018
 * computes the current versions' hashes exactly as the loader does, so nothing reads as changed after it.
 */
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { roster } from '../../pipelines/feeds/roster.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { up as migration0018 } from '../../src/warehouse/migrations/0018-money-cents.ts';
import { testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';

const dir = tempDir('ruralhub-money-');
let wh: Warehouse;
beforeAll(async () => {
  wh = await testWarehouse('money');
});
afterAll(async () => wh?.close());

describe('money in cents', () => {
  it('rounds to cents, quarantines a 13-digit amount, and a reload finds every row unchanged', async () => {
    const path = writeCsv(join(dir, 'roster.csv'), [
      ['户编号', '姓名', '证件号码', '户类型', '家庭年人均纯收入'],
      ['H1', '甲', testId(1), '监测户', '1234.5'],
      ['H2', '乙', testId(2), '监测户', '12.345'],
      ['H3', '丙', testId(3), '监测户', '¥1,234.565'],
      ['H4', '丁', testId(4), '监测户', '99999999999999'],
    ]);
    const load = (force = false) =>
      importFeed({
        wh,
        feed: roster,
        path,
        force,
        log: silentLogger(),
        today: '2026-11-24',
        timeZone: 'Asia/Shanghai',
      });
    const first = await load();
    expect(first.counts).toMatchObject({ rows_read: 4, rows_loaded: 3, rows_quarantined: 1 });
    const stored = await sql<{ id_number: string; income: string }>`
      SELECT id_number, income_per_capita::text AS income FROM roster WHERE valid_to IS NULL ORDER BY household_id`.execute(
      wh.db,
    );
    expect(stored.rows.map((r) => r.income)).toEqual(['1234.50', '12.35', '1234.57']);
    const q = await wh.db.selectFrom('quarantine').select(['field', 'problem', 'raw_value']).execute();
    expect(q).toEqual([
      { field: 'income_per_capita', problem: 'money_out_of_range', raw_value: '99999999999999' },
    ]);

    const hashes = async () =>
      (
        await sql<{
          h: string;
        }>`SELECT encode(row_hash, 'hex') AS h FROM roster WHERE valid_to IS NULL ORDER BY version_id`.execute(
          wh.db,
        )
      ).rows.map((r) => r.h);
    const before = await hashes();
    await migration0018(wh.db);
    expect(await hashes()).toEqual(before);

    const again = await load(true);
    expect(again.counts).toMatchObject({ rows_loaded: 3, rows_unchanged: 3, rows_changed: 0, rows_new: 0 });
  });
});
