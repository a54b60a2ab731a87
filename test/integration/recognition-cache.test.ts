import { join } from 'node:path';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roster } from '../../pipelines/feeds/roster.ts';
import { writeRoster } from '../../src/demo/bulk-roster.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { beginPublish } from '../../src/load/recognition-cache.ts';
import { FeedWrittenError, loadCurrentVersions } from '../../src/load/recognize.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { expectVersionsOfTable } from '../support/loads.ts';
import { feedState, testWarehouse } from '../support/warehouse.ts';

let wh: Warehouse;
const dir = tempDir();
const feed = { ...roster, id: 'roster' as const };
const HEAD = ['户编号', '姓名', '证件号码', '与户主关系', '户类型'];
const person = (hh: string, name: string, n: number, type = '监测户') => [hh, name, testId(n), '户主', type];

beforeAll(async () => {
  wh = await testWarehouse('cache');
});
afterAll(async () => wh?.close());

/** Imports `rows` as the whole roster; returns the summary and where the current versions were read from. */
async function load(name: string, rows: string[][]) {
  const lines: string[] = [];
  const summary = await importFeed({
    log: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }),
    today: '2026-11-24',
    timeZone: 'Asia/Shanghai',
    wh,
    feed,
    path: writeCsv(join(dir, name), [HEAD, ...rows]),
    confirmShrink: true,
  });
  const logged = lines.map((l) => JSON.parse(l) as { msg: string; versions_from?: string; reason?: string });
  return {
    summary,
    from: logged.find((l) => l.msg === 'staged')?.versions_from ?? null,
    refused: logged.find((l) => l.msg.startsWith('recognition cache not used'))?.reason ?? null,
  };
}

const state = () => feedState(wh.db, 'roster');

/** The cache, read as a load reads it, holds exactly the table's current versions; returns what it read. */
async function expectCacheIsTable() {
  const { generation, cache_generation } = await state();
  expect(cache_generation).toBe(generation);
  const cached = await loadCurrentVersions(wh.db, wh.pool, feed, 0, generation);
  expect(cached?.fromCache).toBe(true);
  await expectVersionsOfTable(wh, cached);
  return cached!;
}

describe('the recognition cache', () => {
  const first = [
    person('C1', '甲一', 801),
    person('C2', '甲二', 802),
    person('C3', '甲三', 803),
    person('C4', '甲四', 804),
    person('C5', '甲五', 805),
  ];

  it('is written by a first load and kept exact through loads that add, change, end and re-format rows', async () => {
    const a = await load('c-1.csv', first);
    expect(a.summary.counts).toMatchObject({ rows_new: 5 });
    expect((await expectCacheIsTable()).fromImage).toBe(false); // the pairs its INSERT returned

    // C1 changed, C2 gone, C3 re-formatted (same values, other bytes: a new raw hash on the same version), C6 new.
    const b = await load('c-2.csv', [
      person('C1', '甲一', 801, '脱贫户'),
      [' C3 ', '甲三', testId(803), '户主', '监测户'],
      first[3]!,
      first[4]!,
      person('C6', '甲六', 806),
    ]);
    expect(b.from).toBe('cache pairs'); // the first load's
    expect(b.summary.counts).toMatchObject({
      rows_new: 1,
      rows_changed: 1,
      rows_unchanged: 3,
      rows_ended: 1,
    });
    expect(b.summary.recognized).toBe(2); // C4, C5
    // It wrote a base (the set it read, as an image), then a step per statement of its publish: changed and
    // re-hashed versions, the ended one, the new versions.
    expect(await expectCacheIsTable()).toMatchObject({ fromImage: true, steps: 4 });

    // The re-formatted C3 is recognised now, under the hash its version took.
    const c = await load('c-3.csv', [
      person('C1', '甲一', 801, '脱贫户'),
      [' C3 ', '甲三', testId(803), '户主', '监测户'],
      first[3]!,
      person('C6', '甲六', 806),
    ]);
    expect(c.from).toBe('cache');
    expect(c.summary.recognized).toBe(4);
    expect(c.summary.counts).toMatchObject({ rows_unchanged: 4, rows_ended: 1 });
    // The image and the steps of two loads: C5's removal applies to the image.
    expect(await expectCacheIsTable()).toMatchObject({ fromImage: true });
  });

  it('is not trusted once anything else wrote the table: the next load reads the table and writes a new base', async () => {
    const rows = [person('C1', '甲一', 801, '脱贫户'), first[3]!, person('C6', '甲六', 806)];
    await load('c-4.csv', rows);
    const before = await state();
    expect(before.cache_generation).toBe(before.generation);
    // An operator's statement (a version without a raw hash, as one loaded before they were kept).
    await sql`UPDATE roster SET raw_hash = NULL WHERE household_id = 'C4' AND valid_to IS NULL`.execute(
      wh.db,
    );
    const after = await state();
    expect(after.generation).not.toBe(before.generation);
    expect(after.cache_generation).not.toBe(after.generation);

    const d = await load('c-5.csv', [...rows, person('C7', '甲七', 807)]);
    expect(d.from).toBe('table');
    expect(d.summary.recognized).toBe(2); // C1, C6; C4 has no hash to be recognised by
    await expectCacheIsTable(); // the base (with C4 among the ids without a hash) and this load's steps

    const e = await load('c-6.csv', [...rows, person('C7', '甲七', 807), person('C8', '甲八', 808)]);
    expect(e.from).toBe('cache');
    expect(e.summary.recognized).toBe(4); // C4 took its hash again in the load before
    expect(e.summary.counts).toMatchObject({ rows_new: 1, rows_unchanged: 4 });
    await expectCacheIsTable();
  });

  /** The six rows the later loads carry (C1 changed, C4 as first loaded, C6–C9). */
  const sixRows = () => [
    person('C1', '甲一', 801, '脱贫户'),
    first[3]!,
    person('C6', '甲六', 806),
    person('C7', '甲七', 807),
    person('C8', '甲八', 808),
    person('C9', '甲九', 809),
  ];

  it('stays exact through a load read row by row (a file COPY rejects), whose hashes are of cells, not lines', async () => {
    const rows = sixRows();
    const ragged = ['C10', '甲十', testId(810), '户主', '监测户', '多余'];
    const f = await load('c-7.csv', [...rows, ragged]);
    expect(f.from).toBeNull(); // not the bulk path
    expect(f.summary.counts).toMatchObject({ rows_new: 1, rows_unchanged: 5, rows_quarantined: 1 });
    await expectCacheIsTable();
    // The next bulk load reads the cache; no line is recognised by a cell hash, so every row is staged again.
    const g = await load('c-8.csv', [...rows, person('C11', '甲十一', 811)]);
    expect(g.from).toBe('cache');
    expect(g.summary.recognized).toBe(0);
    expect(g.summary.counts).toMatchObject({ rows_new: 1, rows_unchanged: 6 });
    await expectCacheIsTable();
  });

  it('is not used when it does not add up to the feed (a step lost): the load reads the table, says why, and is right', async () => {
    const rows = [...sixRows(), person('C11', '甲十一', 811)];
    // The last load's step of new versions (C11's), lost: by its generation the cache is still valid.
    await sql`DELETE FROM recognition_cache WHERE seq = (SELECT max(seq) FROM recognition_cache
      WHERE pairs IS NOT NULL AND image IS NULL)`.execute(wh.db);
    const { generation, cache_generation } = await state();
    expect(cache_generation).toBe(generation);
    const h = await load('c-9.csv', [...rows, person('C12', '甲十二', 812)]);
    expect(h.refused).toBe('a recognition cache of 6 versions where the feed has 7');
    expect(h.from).toBe('table');
    expect(h.summary.recognized).toBe(7);
    expect(h.summary.counts).toMatchObject({
      rows_new: 1,
      rows_unchanged: 7,
      rows_changed: 0,
      rows_ended: 0,
    });
    await expectCacheIsTable(); // a new base, from the table
  });

  it('makes a load fail when the table was written while it ran', async () => {
    const { generation } = await state();
    await sql`UPDATE roster SET row_number = row_number WHERE household_id = 'C1'`.execute(wh.db);
    await expect(loadCurrentVersions(wh.db, wh.pool, feed, 0, generation)).rejects.toBeInstanceOf(
      FeedWrittenError,
    );
    await expect(wh.db.transaction().execute((trx) => beginPublish(trx, feed, generation))).rejects.toThrow(
      'its table was written by something other than this load while it ran',
    );
    // What the load found when it started is what counts: the feed's current generation publishes.
    const now = await state();
    expect(await wh.db.transaction().execute((trx) => beginPublish(trx, feed, now.generation))).toBe(false);
  });
});

describe('a cache of many steps', () => {
  it('is dropped by the next publish rather than grown (a feed loaded only row by row never reads it)', async () => {
    const { generation } = await state();
    await wh.db
      .updateTable('feed_state')
      .set({ cache_generation: generation })
      .where('feed', '=', 'roster')
      .execute();
    await wh.db.deleteFrom('recognition_cache').execute();
    await wh.db
      .insertInto('recognition_cache')
      .values(Array.from({ length: 64 }, () => ({ feed: 'roster', ids: Buffer.alloc(8) })))
      .execute();
    expect(await wh.db.transaction().execute((trx) => beginPublish(trx, feed, generation))).toBe(false);
    const left = await wh.db.selectFrom('recognition_cache').select('seq').execute();
    expect(left).toHaveLength(0);
  });
});

describe("a feed's first load by the bulk path", () => {
  it('leaves the cache with an image of its versions, so that the next load need not build one', async () => {
    const own = await testWarehouse('cache_first');
    try {
      const path = join(dir, 'first-12k.csv');
      await writeRoster(path, 12_000);
      const lines: string[] = [];
      const s = await importFeed({
        log: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }),
        today: '2026-11-24',
        timeZone: 'Asia/Shanghai',
        wh: own,
        feed,
        path,
      });
      expect(s.counts).toMatchObject({ rows_new: 12_000 });
      const published = JSON.parse(lines.find((l) => l.includes('"published"'))!) as { ms: object };
      expect(published.ms).toHaveProperty('base');
      const { generation } = await feedState(own.db, 'roster');
      const cached = await loadCurrentVersions(own.db, own.pool, feed, 0, generation);
      expect(cached).toMatchObject({ fromCache: true, fromImage: true, total: 12_000 });
      const images = await own.db
        .selectFrom('recognition_cache')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('image', 'is not', null)
        .executeTakeFirstOrThrow();
      expect(Number(images.n)).toBe(1);
      // Read in slices of any size (the header cut across two, a slice ending mid-slot): the same set, one step.
      for (const imageSlice of [7, 1000]) {
        const sliced = await loadCurrentVersions(own.db, own.pool, feed, 0, generation, { imageSlice });
        expect(sliced).toMatchObject({ fromCache: true, fromImage: true, total: 12_000, steps: 1 });
        expect([...sliced!.set.unseen()].sort((a, b) => a - b)).toEqual(
          [...cached!.set.unseen()].sort((a, b) => a - b),
        );
      }
      // An image cut short (a slice lost): the table is read, not a set with holes.
      await sql`UPDATE recognition_cache SET image = substr(image, 1, octet_length(image) - 24)
        WHERE image IS NOT NULL`.execute(own.db);
      const cut = await loadCurrentVersions(own.db, own.pool, feed, 0, generation);
      expect(cut).toMatchObject({ fromCache: false, total: 12_000 });
      // An image this machine cannot read (as one written where the byte order is the other): the table is read.
      await sql`UPDATE recognition_cache SET image = overlay(image PLACING '\\x00000000'::bytea FROM 1 FOR 4)
        WHERE image IS NOT NULL`.execute(own.db);
      const fallback = await loadCurrentVersions(own.db, own.pool, feed, 0, generation);
      expect(fallback).toMatchObject({ fromCache: false, total: 12_000 });
    } finally {
      await own.close();
    }
  });
});
