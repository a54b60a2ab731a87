/**
 * Department databases as sources, against real servers: MariaDB/MySQL (TEST_MYSQL_URL, default
 * root@127.0.0.1:3306 — the test creates its own database) and PostgreSQL (the test server, a schema of its
 * own). Keyset paging over pages smaller than the table, an incremental feed resumed from its checkpoint
 * (rows sharing the boundary cursor value are not lost, nothing is loaded twice), late inserts below the
 * checkpoint reconciled by `lookback` and `full_every`, and names checked against the source's catalog.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadMessage } from '../../connectors/connector.ts';
import { lookbackFrom, sqlConnector } from '../../connectors/sql/sql-connector.ts';
import { silentLogger } from '../../core/log.ts';
import { deaths } from '../../pipelines/feeds/deaths.ts';
import type { FeedConfig } from '../../schemas/config.ts';
import { SourceConfigSchema, type SqlConfig, SqlConfigSchema } from '../../schemas/sources.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testId } from '../support/demo.ts';
import { importFromSource } from '../support/loads.ts';
import { databaseUrl, feedState, testWarehouse } from '../support/warehouse.ts';

const MYSQL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const tag = randomBytes(3).toString('hex');
const log = silentLogger();
const id = (n: number) => testId(n, '52010219500101');
const row = (n: number, day: string) => [n, `死者${n}`, id(n), '2026-10-01', day];
/** The source tables' column names, as the deaths feed's headers. */
const ALIASES = { name: ['xm'], id_number: ['sfzh'], died_on: ['swrq'], deregistered_on: ['cancel_date'] };

/** A source database per dialect: create, insert, drop. */
interface SourceDb {
  dialect: 'mysql' | 'postgres';
  url: string;
  exec(text: string, params?: unknown[]): Promise<void>;
  close(): Promise<void>;
}

async function mysqlSource(): Promise<SourceDb> {
  let root: mysql.Connection;
  try {
    root = await mysql.createConnection({ uri: MYSQL });
  } catch (err) {
    throw new Error(
      `MariaDB/MySQL is not reachable at ${MYSQL.replace(/\/\/[^@]*@/, '//')} (${(err as { code?: string }).code}): ` +
        'start it (`service mariadb start`, or `apt-get install -y mariadb-server`) or point TEST_MYSQL_URL at one',
    );
  }
  const db = `rh_src_${tag}`;
  await root.query(`CREATE DATABASE ${db} CHARACTER SET utf8mb4`);
  const url = `${MYSQL.replace(/\/$/, '')}/${db}`;
  const c = await mysql.createConnection({ uri: url });
  return {
    dialect: 'mysql',
    url,
    exec: async (text, params = []) => {
      await c.query(text, params);
    },
    close: async () => {
      await c.end();
      await root.query(`DROP DATABASE ${db}`);
      await root.end();
    },
  };
}

async function postgresSource(): Promise<SourceDb> {
  const schema = `rh_src_${tag}`;
  const c = new pg.Client({ connectionString: databaseUrl() });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  await c.query(`SET search_path = ${schema}`);
  const u = new URL(databaseUrl());
  u.searchParams.set('options', `-c search_path=${schema}`);
  return {
    dialect: 'postgres',
    url: u.toString(),
    exec: async (text, params = []) => {
      let i = 0;
      await c.query(
        text.replace(/\?/g, () => `$${++i}`),
        params,
      );
    },
    close: async () => {
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

let wh: Warehouse;
beforeAll(async () => {
  wh = await testWarehouse('sqlsrc');
});
afterAll(async () => wh?.close());

for (const make of [mysqlSource, postgresSource]) {
  describe(`a ${make === mysqlSource ? 'MariaDB' : 'PostgreSQL'} source`, () => {
    let src: SourceDb;
    const envName = `RH_SRC_${tag.toUpperCase()}_${make === mysqlSource ? 'MY' : 'PG'}`;
    let cfg: SqlConfig;
    beforeAll(async () => {
      src = await make();
      process.env[envName] = src.url;
      cfg = {
        dialect: src.dialect,
        url_env: envName,
        table: 'death_reg',
        cursor: 'cancel_date',
        key: ['reg_no'],
        page_size: 4,
      };
      await src.exec(
        'CREATE TABLE death_reg (reg_no INT PRIMARY KEY, xm VARCHAR(40), sfzh VARCHAR(18), swrq DATE, cancel_date DATE)',
      );
      const days = [
        '2026-10-02',
        '2026-10-05',
        '2026-10-05',
        '2026-10-09',
        '2026-10-12',
        '2026-10-15',
        '2026-10-15',
        '2026-10-20',
        '2026-10-20',
        '2026-10-20',
      ];
      for (const [i, d] of days.entries())
        await src.exec('INSERT INTO death_reg VALUES (?, ?, ?, ?, ?)', row(i + 1, d));
    });
    afterAll(async () => {
      delete process.env[envName];
      await src?.close();
    });

    it('reads every row over pages smaller than the table, and checkpoints at the snapshot maximum', async () => {
      const out: ReadMessage[] = [];
      for await (const m of sqlConnector.read(cfg)) out.push(m);
      expect(out[0]).toMatchObject({
        type: 'header',
        columns: ['reg_no', 'xm', 'sfzh', 'swrq', 'cancel_date'],
      });
      const records = out.filter((m) => m.type === 'record');
      expect(records).toHaveLength(10);
      expect(records.map((r) => (r.type === 'record' ? r.cells[0] : null))).toEqual([
        '1',
        '2',
        '3',
        '4',
        '5',
        '6',
        '7',
        '8',
        '9',
        '10',
      ]);
      expect(records[0]!.type === 'record' && records[0]!.cells).toEqual([
        '1',
        '死者1',
        id(1),
        '2026-10-01',
        '2026-10-02',
      ]);
      expect(out.at(-1)).toEqual({ type: 'checkpoint', cursor: '2026-10-20', read: { mode: 'full' } });
    });

    it('resumes from the checkpoint: boundary rows read again but not loaded twice, new rows loaded once', async () => {
      const feedConfig: Partial<FeedConfig> = {
        header_aliases: ALIASES,
        max_shrink: 1,
        // a config written before `kind`: told a database by its `dialect`
        source: SourceConfigSchema.parse(cfg),
      };
      const run = () => importFromSource(wh, deaths, feedConfig, log);
      // Each dialect loads the same people: clear the feed between the two describe blocks.
      await wh.db.deleteFrom('deaths').execute();
      await wh.db.deleteFrom('feed_state').where('feed', '=', 'deaths').execute();
      const first = await run();
      expect(first.counts).toMatchObject({ rows_read: 10, rows_new: 10 });
      expect((await feedState(wh.db, 'deaths')).cursor).toBe('2026-10-20');
      // Written after the first read: two rows on the boundary day, two later.
      for (const [n, d] of [
        [11, '2026-10-20'],
        [12, '2026-10-20'],
        [13, '2026-10-21'],
        [14, '2026-11-02'],
      ] as const) {
        await src.exec('INSERT INTO death_reg VALUES (?, ?, ?, ?, ?)', row(n, d));
      }
      const second = await run();
      // Read: the 3 old boundary rows again + 4 new; loaded: the 4 new, the 3 old unchanged.
      expect(second.counts).toMatchObject({ rows_read: 7, rows_new: 4, rows_unchanged: 3, rows_changed: 0 });
      const current = await wh.db
        .selectFrom('deaths')
        .select('id_number')
        .where('valid_to', 'is', null)
        .execute();
      expect(current.map((c) => c.id_number).sort()).toEqual(
        Array.from({ length: 14 }, (_, i) => id(i + 1)).sort(),
      );
      expect((await feedState(wh.db, 'deaths')).cursor).toBe('2026-11-02');
      const third = await run();
      expect(third.counts).toMatchObject({ rows_read: 1, rows_new: 0, rows_unchanged: 1 });
    });

    it('loads a late insert below the checkpoint: within the lookback on the next run, older ones on the full_every read', async () => {
      await src.exec(
        'CREATE TABLE late_reg (reg_no INT PRIMARY KEY, xm VARCHAR(40), sfzh VARCHAR(18), swrq DATE, cancel_date DATE)',
      );
      const insert = (n: number, day: string) =>
        src.exec('INSERT INTO late_reg VALUES (?, ?, ?, ?, ?)', row(100 + n, day));
      for (let n = 1; n <= 5; n++) await insert(n, `2026-10-0${n}`);
      const source = (extra: Partial<SqlConfig>) =>
        SourceConfigSchema.parse({ kind: 'sql', ...cfg, table: 'late_reg', lookback: 3, ...extra });
      const run = async (extra: Partial<SqlConfig> = {}) => {
        const r = await importFromSource(wh, deaths, { header_aliases: ALIASES, source: source(extra) }, log);
        const { details } = await wh.db
          .selectFrom('runs')
          .select('details')
          .where('id', '=', r.runId)
          .executeTakeFirstOrThrow();
        return { counts: r.counts, read: (details as { read?: unknown }).read };
      };
      const loaded = async () =>
        (await wh.db.selectFrom('deaths').select('id_number').where('valid_to', 'is', null).execute())
          .map((c) => c.id_number)
          .sort();
      const ids = (...ns: number[]) => ns.map((n) => id(100 + n)).sort();
      await wh.db.deleteFrom('deaths').execute();
      await wh.db.deleteFrom('feed_state').where('feed', '=', 'deaths').execute();

      expect(await run()).toEqual({
        counts: expect.objectContaining({ rows_read: 5, rows_new: 5 }),
        read: { mode: 'full' },
      });
      // Committed after that read with older cursor values: one within the 3-day lookback, one long before.
      await insert(6, '2026-10-03');
      await insert(7, '2026-09-20');
      // From 2026-10-05 − 3 days: rows 2–5 again (unchanged, no new version) and the late row 6.
      expect(await run()).toEqual({
        counts: expect.objectContaining({ rows_read: 5, rows_new: 1, rows_unchanged: 4, rows_changed: 0 }),
        read: { mode: 'incremental', from: '2026-10-02', lookback: 3 },
      });
      expect(await loaded()).toEqual(ids(1, 2, 3, 4, 5, 6));
      // full_every newly set over a plain checkpoint: reads in full at once, and row 7 loads.
      expect(await run({ full_every: 2 })).toEqual({
        counts: expect.objectContaining({ rows_read: 7, rows_new: 1, rows_unchanged: 6 }),
        read: { mode: 'full', reason: 'full_every 2' },
      });
      expect(await loaded()).toEqual(ids(1, 2, 3, 4, 5, 6, 7));
      const state = await feedState(wh.db, 'deaths');
      expect(JSON.parse(state.cursor!)).toEqual({ cursor: '2026-10-05', reads_since_full: 0 });
      await insert(8, '2026-08-01');
      // The next read is incremental (row 8 is not in its window); the one after it is full and loads it.
      expect(await run({ full_every: 2 })).toEqual({
        counts: expect.objectContaining({ rows_read: 5, rows_new: 0, rows_unchanged: 5 }),
        read: { mode: 'incremental', from: '2026-10-02', lookback: 3 },
      });
      expect(await run({ full_every: 2 })).toEqual({
        counts: expect.objectContaining({ rows_read: 8, rows_new: 1, rows_unchanged: 7 }),
        read: { mode: 'full', reason: 'full_every 2' },
      });
      expect(await loaded()).toEqual(ids(1, 2, 3, 4, 5, 6, 7, 8));
    });

    it("takes the data date from the source's export column: the latest date read, with row and column", async () => {
      // A department's export table: every row stamped with the day of its export (one older row kept).
      await src.exec(
        'CREATE TABLE export_reg (reg_no INT PRIMARY KEY, xm VARCHAR(40), sfzh VARCHAR(18), swrq DATE, dcrq VARCHAR(20))',
      );
      const insert = (n: number, stamp: string) =>
        src.exec('INSERT INTO export_reg VALUES (?, ?, ?, ?, ?)', [...row(200 + n, '').slice(0, 4), stamp]);
      await insert(1, '2026-10-31');
      await insert(2, '2026年11月1日');
      await insert(3, '');
      await insert(4, '2026-10-15');
      const feedConfig = (column: string) => ({
        header_aliases: ALIASES,
        source: SourceConfigSchema.parse({
          kind: 'sql',
          dialect: src.dialect,
          url_env: envName,
          table: 'export_reg',
          key: ['reg_no'],
          data_date_column: column,
        }),
      });
      const ledger = (runId: number) =>
        wh.db
          .selectFrom('runs')
          .select(['status', 'data_date', 'data_date_from', 'error'])
          .where('id', '=', runId)
          .executeTakeFirstOrThrow();
      await wh.db.deleteFrom('deaths').execute();
      await wh.db.deleteFrom('feed_state').where('feed', '=', 'deaths').execute();
      const r = await importFromSource(wh, deaths, feedConfig('dcrq'), log);
      expect(r.counts).toMatchObject({ rows_read: 4, rows_new: 4 });
      expect(await ledger(r.runId)).toEqual({
        status: 'succeeded',
        data_date: '2026-11-01',
        data_date_from: `source ${src.dialect}:export_reg row 2 column 'dcrq'`,
        error: null,
      });
      // A stamp that is no date, or one after the load's day (2026-11-24): the load fails naming row and column.
      await insert(5, '十一月');
      await expect(importFromSource(wh, deaths, feedConfig('dcrq'), log)).rejects.toThrow(
        `source ${src.dialect}:export_reg row 5 column 'dcrq': dcrq '十一月' is not a date; expected YYYY-MM-DD, YYYY/M/D, YYYY年M月D日 or YYYYMMDD (or give --data-date)`,
      );
      await src.exec('DELETE FROM export_reg WHERE reg_no = 205');
      await insert(6, '2026-12-01');
      await expect(importFromSource(wh, deaths, feedConfig('dcrq'), log)).rejects.toThrow(
        `source ${src.dialect}:export_reg row 5 column 'dcrq': dcrq 2026-12-01 is later than the load's date 2026-11-24`,
      );
      await expect(importFromSource(wh, deaths, feedConfig('export_day'), log)).rejects.toThrow(
        `${src.dialect}:export_reg: data_date_column 'export_day' is not among its columns (reg_no, xm, sfzh, swrq, dcrq)`,
      );
      // Nothing the failed loads read reached the feed: the first load's four rows are its only versions.
      expect(await wh.db.selectFrom('deaths').select('id_number').execute()).toHaveLength(4);
    });

    it('marks a binary column whose bytes are not UTF-8 as damaged; valid bytes are text', async () => {
      const binary = src.dialect === 'mysql' ? 'VARBINARY(40)' : 'bytea';
      await src.exec(`CREATE TABLE legacy_names (reg_no INT PRIMARY KEY, xm ${binary})`);
      const ph = (i: number) => (src.dialect === 'mysql' ? '?' : `$${i}`);
      const insert = `INSERT INTO legacy_names VALUES (${ph(1)}, ${ph(2)})`;
      await src.exec(insert, [1, Buffer.from('张三𠀀', 'utf8')]);
      await src.exec(insert, [2, Buffer.from([0xe5, 0xbc, 0xa0, 0xe4, 0xb8])]); // 张, then 三 cut short
      const out: ReadMessage[] = [];
      for await (const m of sqlConnector.read({
        ...cfg,
        table: 'legacy_names',
        cursor: undefined,
        key: ['reg_no'],
      }))
        out.push(m);
      expect(out.flatMap((m) => (m.type === 'record' ? [[m.cells, m.damaged ?? []]] : []))).toEqual([
        [['1', '张三𠀀'], []],
        [['2', expect.stringMatching(/^张\uFFFD/)], [1]],
      ]);
    });

    it('checks table and column names against the catalog before building any query', async () => {
      const read = async (c: SqlConfig) => {
        for await (const _ of sqlConnector.read(c)) {
          /* drain */
        }
      };
      await expect(read({ ...cfg, table: 'death_reg; DROP TABLE death_reg' })).rejects.toThrow(
        /no table 'death_reg; DROP TABLE death_reg'.*tables: death_reg/,
      );
      await expect(read({ ...cfg, columns: ['xm', 'nope'] })).rejects.toThrow(
        /table 'death_reg' has no column nope; columns: reg_no, xm, sfzh, swrq, cancel_date/,
      );
      expect(await sqlConnector.check(cfg)).toEqual({
        ok: true,
        message: `${src.dialect}:death_reg: 5 columns readable`,
      });
      const bad = await sqlConnector.check({ ...cfg, url_env: 'RH_NOT_SET_ANYWHERE' });
      expect(bad).toEqual({
        ok: false,
        message: `RH_NOT_SET_ANYWHERE is not set: it must hold the ${src.dialect} connection string`,
      });
    });
  });
}

describe('lookback arithmetic on checkpoints as the drivers give them', () => {
  it('moves integers exactly, dates by days, date-times by fractions of days keeping their form and zone', () => {
    expect(lookbackFrom('9007199254740993', 10)).toBe('9007199254740983');
    expect(lookbackFrom('105.5', 0.5)).toBe('105');
    expect(lookbackFrom('2026-03-01', 1)).toBe('2026-02-28');
    expect(lookbackFrom('2026-03-01', 0.25)).toBe('2026-02-28'); // rounded to whole days: never shorter
    expect(lookbackFrom('2026-01-01 06:00:00', 0.5)).toBe('2025-12-31 18:00:00'); // MySQL DATETIME
    expect(lookbackFrom('2026-10-20T08:00:00.123Z', 1 / 24)).toBe('2026-10-20T07:00:00Z'); // pg timestamptz
    expect(lookbackFrom('2026-10-20 08:00:00+08', 1)).toBe('2026-10-19 08:00:00+08');
    expect(() => lookbackFrom('A-17', 1)).toThrow(/lookback needs a numeric or date\/time cursor/);
  });

  it('refuses lookback or full_every without a cursor', () => {
    expect(
      SqlConfigSchema.safeParse({ dialect: 'mysql', url_env: 'X', table: 't', key: ['id'], full_every: 7 })
        .success,
    ).toBe(false);
  });
});
