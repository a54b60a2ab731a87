/**
 * The publish side of issue 22: a first load into a feed table with no version builds its secondary indexes after
 * its rows (the same indexes as before, valid; kept when a reader holds the table); a re-sent per-year snapshot
 * recognised before staging is counted and ended per partition without a pass over the feed table, with the same
 * results as the versions say.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import { writeRoster } from '../../src/demo/bulk-roster.ts';
import { DEFER_INDEXES_ROWS } from '../../src/load/deferred-indexes.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { BIN } from '../support/cli.ts';
import { testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { databaseUrl, importRuns, testWarehouse } from '../support/warehouse.ts';

let wh: Warehouse;
const dir = tempDir('ruralhub-publish-');
const base = { log: silentLogger(), today: '2026-11-24', timeZone: 'Asia/Shanghai' };

beforeAll(async () => {
  wh = await testWarehouse('publish');
});
afterAll(async () => wh?.close());

/** A valid ID for each of up to 28,000 students: 1,000 a day of January 1980. */
const studentId = (n: number) =>
  testId(n % 1000, `5201021980${String(101 + Math.floor(n / 1000)).padStart(4, '0')}`);

/** The table's indexes as the catalog defines them, and whether each is valid, by name. */
async function indexesOf(table: string) {
  return (await catalogOf(table)).map(({ name, def, valid }) => ({ name, def, valid }));
}

/** The same with each index's oid: an index built again has a new one. */
async function catalogOf(table: string) {
  const { rows } = await sql<{ name: string; def: string; valid: boolean; oid: number }>`
    SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def, i.indisvalid AS valid, c.oid::int AS oid
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = ${table}::regclass ORDER BY c.relname`.execute(wh.db);
  return rows;
}

/** The names of the indexes of `table` that are not the ones in `before` (built again since). */
async function rebuilt(table: string, before: readonly { name: string; oid: number }[]) {
  const now = await catalogOf(table);
  return now.filter((i) => before.find((b) => b.name === i.name)?.oid !== i.oid).map((i) => i.name);
}

describe('a first load into an empty feed table', () => {
  const rows = DEFER_INDEXES_ROWS + 5_000;

  it('writes every row and leaves the same indexes, valid, that the next load uses', async () => {
    const before = await indexesOf('roster');
    const oids = await catalogOf('roster');
    expect(before.map((i) => i.name)).toEqual(
      expect.arrayContaining(['roster_current', 'roster_all_versions', 'roster_pkey']),
    );
    const file = join(dir, 'roster.csv');
    await writeRoster(file, rows);
    const first = await importFeed({ ...base, wh, feed: FEEDS.roster, path: file });
    expect(first.counts).toMatchObject({ rows_read: rows, rows_new: rows, rows_loaded: rows });
    expect(await indexesOf('roster')).toEqual(before);
    // Built after the rows, all but the primary key.
    expect(await rebuilt('roster', oids)).toEqual(
      before.map((i) => i.name).filter((n) => n !== 'roster_pkey'),
    );
    const current = await sql<{ n: number; keys: number }>`
      SELECT count(*)::int AS n, count(DISTINCT id_number)::int AS keys FROM roster WHERE valid_to IS NULL`.execute(
      wh.db,
    );
    expect(current.rows[0]).toEqual({ n: rows, keys: rows });
    // Every person of the file registered once.
    const persons = await sql<{ n: number }>`SELECT count(*)::int AS n FROM persons`.execute(wh.db);
    expect(persons.rows[0]!.n).toBe(rows);
    // The unique current index holds: a second current version of a key is refused.
    await expect(
      sql`INSERT INTO roster (county, township, village, household_id, name, id_number, relation, household_type,
            row_hash, valid_from, run_id, source, row_number, data_from)
          SELECT county, township, village, household_id, name, id_number, relation, household_type,
            row_hash, now(), run_id, source, row_number, data_from
          FROM roster WHERE valid_to IS NULL LIMIT 1`.execute(wh.db),
    ).rejects.toThrow(/roster_current/);
    // A re-sent file with 1 in 100 rows changed finds them by the indexes rebuilt.
    const changed = join(dir, 'roster-changed.csv');
    await writeRoster(changed, rows, 100);
    const second = await importFeed({ ...base, wh, feed: FEEDS.roster, path: changed });
    expect(second.counts).toMatchObject({ rows_changed: rows / 100, rows_new: 0, rows_ended: 0 });
  }, 120_000);

  it('keeps the indexes in place when a reader holds the empty table, and loads the same', async () => {
    const feed = FEEDS.student_roll;
    const HEAD = ['学生姓名', '身份证号', '学校名称', '年级', '学籍状态'];
    const students = Array.from({ length: DEFER_INDEXES_ROWS + 10 }, (_, i) => [
      `学生${i}`,
      studentId(i),
      '示范县第一中学',
      '七年级',
      '在读',
    ]);
    const file = writeCsv(join(dir, 'students.csv'), [HEAD, ...students]);
    const before = await indexesOf(feed.id);
    const oids = await catalogOf(feed.id);
    // A reader in an open transaction: the load must not wait for it, nor make it wait.
    const reader = await wh.pool.connect();
    try {
      await reader.query('BEGIN');
      await reader.query(`SELECT count(*) FROM ${feed.id}`);
      const s = await importFeed({ ...base, wh, feed, path: file });
      expect(s.counts).toMatchObject({ rows_new: students.length, rows_quarantined: 0 });
      await reader.query('COMMIT');
    } finally {
      reader.release();
    }
    expect(await indexesOf(feed.id)).toEqual(before);
    expect(await rebuilt(feed.id, oids)).toEqual([]);
    const n = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM student_roll WHERE valid_to IS NULL`.execute(wh.db);
    expect(n.rows[0]!.n).toBe(students.length);
  }, 120_000);
});

describe('a first load killed with SIGKILL while it builds the indexes', () => {
  it('leaves the table empty with its indexes as they were; the re-run loads the file', async () => {
    const killed = await testWarehouse('publish_kill');
    try {
      const config = join(dir, 'kill.yaml');
      writeFileSync(
        config,
        `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_KILL_URL, schema: ${killed.schema} }\n`,
      );
      const file = join(dir, 'roster-kill.csv');
      const rows = 150_000; // index builds long enough to be seen running
      await writeRoster(file, rows);
      const before = await sql<{ name: string; def: string }>`
        SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'roster'::regclass ORDER BY 1`.execute(
        killed.db,
      );
      const start = () =>
        spawn(
          process.execPath,
          [BIN, '--config', config, 'import', 'roster', '--file', file, '--as-of', '2026-11-24'],
          {
            env: { ...process.env, RH_KILL_URL: databaseUrl(), RURALHUB_LOG_LEVEL: 'warn' },
            stdio: 'ignore',
          },
        );
      const exited = (p: ReturnType<typeof start>) =>
        new Promise<number | null>((r) =>
          p.exitCode !== null || p.signalCode ? r(p.exitCode) : p.once('exit', r),
        );
      const p = start();
      let seen = false;
      try {
        const deadline = Date.now() + 90_000;
        while (!seen && p.exitCode === null && Date.now() < deadline) {
          const { rows: active } = await sql<{ query: string }>`SELECT query FROM pg_stat_activity
            WHERE application_name = ${`ruralhub:${p.pid}`} AND state = 'active'`.execute(killed.db);
          seen = active.some((a) => /^CREATE (UNIQUE )?INDEX/.test(a.query));
          if (!seen) await new Promise((r) => setTimeout(r, 10));
        }
      } finally {
        p.kill('SIGKILL');
        await exited(p);
      }
      expect(seen).toBe(true);
      // The dead session's transaction is rolled back once the server notices: the count waits for its lock.
      const n = await sql<{ n: number }>`SELECT count(*)::int AS n FROM roster`.execute(killed.db);
      expect(n.rows[0]!.n).toBe(0);
      const after = await sql<{ name: string; def: string }>`
        SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'roster'::regclass ORDER BY 1`.execute(
        killed.db,
      );
      expect(after.rows).toEqual(before.rows);
      // The re-run (once the dead run's feed lock is gone) loads the whole file.
      for (let attempt = 0; ; attempt++) {
        const code = await exited(start());
        if (code === 0) break;
        expect(code === 75 && attempt < 60).toBe(true);
        await new Promise((r) => setTimeout(r, 500));
      }
      const loaded = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM roster WHERE valid_to IS NULL`.execute(killed.db);
      expect(loaded.rows[0]!.n).toBe(rows);
      // (Runs that found the dead one's lock still held were skipped.)
      const runs = (await importRuns(killed)).map((r) => r.status).filter((s) => s !== 'skipped');
      expect(runs).toEqual(['failed', 'succeeded']);
    } finally {
      await killed.close();
    }
  }, 240_000);
});

describe('a re-sent per-year snapshot, recognised before staging', () => {
  const HEAD = ['姓名', '公民身份号码', '险种', '参保年度', '参保状态'];
  const person = (i: number, year: string, status = '正常参保') => [
    `参保${i}`,
    testId(i, '52010219900101'),
    '城乡居民',
    year,
    status,
  ];
  const load = (name: string, rows: string[][], confirmShrink = false) =>
    importFeed({
      ...base,
      wh,
      feed: FEEDS.insurance,
      confirmShrink,
      path: writeCsv(join(dir, name), [HEAD, ...rows]),
    });
  const current = async () => {
    const { rows } = await sql<{ year: number; n: number }>`
      SELECT year, count(*)::int AS n FROM insurance WHERE valid_to IS NULL GROUP BY year ORDER BY year`.execute(
      wh.db,
    );
    return rows;
  };

  it('ends only within the years the file speaks for, counting the years it carries unchanged', async () => {
    const y2024 = Array.from({ length: 30 }, (_, i) => person(i, '2024'));
    const y2025 = Array.from({ length: 40 }, (_, i) => person(i, '2025'));
    expect((await load('ins-1.csv', [...y2024, ...y2025])).status).toBe('succeeded');

    // 2025 again with one row changed and two left out; 2024 not sent at all: it is not in scope, nothing of
    // it ends, and the shrink guard's base is 2025's 40 records.
    const second = await load('ins-2.csv', [...y2025.slice(0, 37), person(37, '2025', '暂停参保')]);
    expect(second.status).toBe('succeeded');
    expect(second.counts).toMatchObject({
      rows_read: 38,
      rows_unchanged: 37,
      rows_changed: 1,
      rows_new: 0,
      rows_ended: 2,
    });
    expect(await current()).toEqual([
      { year: 2024, n: 30 },
      { year: 2025, n: 38 },
    ]);

    // One 2024 row carried unchanged (recognised, so never staged) brings 2024 into scope: its other 29
    // records would end — held, and the message counts them against 2024's 30.
    const held = await load('ins-3.csv', [...y2025.slice(0, 37), person(37, '2025', '暂停参保'), y2024[0]!]);
    expect(held.status).toBe('held');
    expect(held.counts.rows_ended).toBe(29);
    expect(held.message).toMatch(/would end 29 of 68 current records \(参保年度 2024: 29 of 30\)/);

    // Confirmed, it ends them, and only them.
    const confirmed = await load(
      'ins-3.csv',
      [...y2025.slice(0, 37), person(37, '2025', '暂停参保'), y2024[0]!],
      true,
    );
    expect(confirmed.counts).toMatchObject({ rows_ended: 29, rows_unchanged: 39, rows_changed: 0 });
    expect(await current()).toEqual([
      { year: 2024, n: 1 },
      { year: 2025, n: 38 },
    ]);
    const ended = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM insurance WHERE year = 2024 AND valid_to IS NOT NULL AND data_to IS NOT NULL`.execute(
      wh.db,
    );
    expect(ended.rows[0]!.n).toBe(29);
  }, 120_000);
});
