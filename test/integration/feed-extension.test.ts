/**
 * A feed is one step: a declaration (test/support/extension-feed.ts) and a registry holding it. `migrate` creates
 * its table from the declaration, with no migration written for it, and the loader loads a department's file
 * into it with history, quarantine and the ledger, as for the project's own feeds.
 */
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import { defineFeed } from '../../schemas/feed.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { feedTablesIn } from '../../src/warehouse/feed-table.ts';
import { expectFeedTablesMatch, migrate, pendingMigrations } from '../../src/warehouse/migrate.ts';
import { testId } from '../support/demo.ts';
import { FEEDS_WITH_EXTENSION, TEMPORARY_AID_HEADER, temporaryAid } from '../support/extension-feed.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';

let wh: Warehouse;
const dir = tempDir();

beforeAll(async () => {
  // Migrated with the project's registry: every numbered migration applied, no test_temporary_aid table (the id says it is a test's, so a contributor's own temporary_aid never meets it).
  wh = await testWarehouse('feed_extension');
});
afterAll(async () => wh?.close());

const load = (name: string, rows: (string | number)[][]) =>
  importFeed({
    wh,
    feed: temporaryAid,
    path: writeCsv(join(dir, name), [TEMPORARY_AID_HEADER, ...rows]),
    log: silentLogger(),
    today: '2026-11-24',
    timeZone: 'Asia/Shanghai',
    // The second file ends one grant of three, beyond the default max_shrink: confirmed, as an operator would.
    confirmShrink: true,
  });

interface AidRow {
  name: string;
  id_number: string;
  village: string | null;
  granted_on: string;
  amount: string | null;
  reason: string | null;
  repeated: boolean | null;
  id_link: string | null;
  run_id: number;
  ended_run_id: number | null;
  row_number: number;
  current: boolean;
}

const versions = async () =>
  (
    await sql<AidRow>`SELECT name, id_number, village, granted_on, amount, reason, repeated, id_link, run_id,
        ended_run_id, row_number, valid_to IS NULL AS current
      FROM test_temporary_aid ORDER BY id_number, granted_on, version_id`.execute(wh.db)
  ).rows;

describe('a feed declared outside the project, passed to migrate in its registry', () => {
  it('is named as pending until migrated, then migrate creates its table once', async () => {
    expect(await pendingMigrations(wh.db, wh.schema)).toEqual([]);
    expect(await pendingMigrations(wh.db, wh.schema, { feeds: FEEDS_WITH_EXTENSION })).toEqual([
      'feed table test_temporary_aid',
    ]);

    const first = await migrate(wh.db, wh.schema, { feeds: FEEDS_WITH_EXTENSION });
    expect(first).toMatchObject({ applied: [], feedTables: ['test_temporary_aid'] });
    // A migration changing every feed table finds it beside the twelve the numbered migrations made.
    expect(await feedTablesIn(wh.db, wh.schema)).toEqual(
      [...Object.keys(FEEDS), 'test_temporary_aid'].sort(),
    );
    expect(await pendingMigrations(wh.db, wh.schema, { feeds: FEEDS_WITH_EXTENSION })).toEqual([]);
    const again = await migrate(wh.db, wh.schema, { feeds: FEEDS_WITH_EXTENSION });
    expect(again).toMatchObject({ applied: [], feedTables: [] });

    const columns = await sql<{ column: string; type: string; not_null: boolean }>`
      SELECT a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
      FROM pg_attribute a WHERE a.attrelid = 'test_temporary_aid'::regclass AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`.execute(wh.db);
    expect(columns.rows.map((c) => `${c.column} ${c.type}${c.not_null ? ' NOT NULL' : ''}`)).toEqual([
      'version_id bigint NOT NULL',
      'name text NOT NULL',
      'id_number text NOT NULL',
      'village text',
      'granted_on date NOT NULL',
      'amount numeric(14,2)',
      'reason text',
      'repeated boolean',
      'row_hash bytea NOT NULL',
      'valid_from timestamp with time zone NOT NULL',
      'valid_to timestamp with time zone',
      'run_id bigint NOT NULL',
      'ended_run_id bigint',
      'source text NOT NULL',
      'sheet text',
      'row_number integer NOT NULL',
      'raw_hash bytea',
      'data_from date NOT NULL',
      'data_to date',
      'id_link text',
    ]);
    const indexes = await sql<{ def: string }>`
      SELECT regexp_replace(pg_get_indexdef(indexrelid), ' ON \\S+', ' ON') AS def FROM pg_index
      WHERE indrelid = 'test_temporary_aid'::regclass ORDER BY 1`.execute(wh.db);
    expect(indexes.rows.map((i) => i.def)).toEqual([
      'CREATE INDEX test_temporary_aid_all_versions ON USING btree (id_number, granted_on)',
      'CREATE INDEX test_temporary_aid_village ON USING btree (village)',
      'CREATE UNIQUE INDEX test_temporary_aid_current ON USING btree (id_number, granted_on) WHERE (valid_to IS NULL)',
      'CREATE UNIQUE INDEX test_temporary_aid_pkey ON USING btree (version_id)',
    ]);
  });

  it('loads a department file into it: current versions, a quarantined row, the ledger', async () => {
    const s = await load('临时救助-1.csv', [
      ['张三', testId(1), '石门村', '2026-03-05', '1,200', '因病', '否'],
      ['李四', testId(2), '石门村', '2026年4月1日', '800.5', '因灾', '是'],
      ['王五', testId(3), '龙井村', '2026-04-31', '500', '因病', '否'],
      ['赵六', testId(4), '龙井村', '2026-05-20', '', '意外事故', ''],
    ]);
    expect(s).toMatchObject({ feed: 'test_temporary_aid', status: 'succeeded' });
    expect(s.counts).toMatchObject({ rows_read: 4, rows_loaded: 3, rows_new: 3, rows_quarantined: 1 });
    expect(await versions()).toEqual([
      {
        name: '张三',
        id_number: testId(1),
        village: '石门村',
        granted_on: '2026-03-05',
        amount: '1200.00',
        reason: 'illness',
        repeated: false,
        id_link: null,
        run_id: s.runId,
        ended_run_id: null,
        row_number: 2,
        current: true,
      },
      {
        name: '李四',
        id_number: testId(2),
        village: '石门村',
        granted_on: '2026-04-01',
        amount: '800.50',
        reason: 'disaster',
        repeated: true,
        id_link: null,
        run_id: s.runId,
        ended_run_id: null,
        row_number: 3,
        current: true,
      },
      {
        name: '赵六',
        id_number: testId(4),
        village: '龙井村',
        granted_on: '2026-05-20',
        amount: null,
        reason: 'accident',
        repeated: null,
        id_link: null,
        run_id: s.runId,
        ended_run_id: null,
        row_number: 5,
        current: true,
      },
    ]);
    const quarantined = await wh.db
      .selectFrom('quarantine')
      .select(['feed', 'row_number', 'field', 'raw_value'])
      .where('run_id', '=', s.runId)
      .execute();
    expect(quarantined).toEqual([
      { feed: 'test_temporary_aid', row_number: 4, field: 'granted_on', raw_value: '2026-04-31' },
    ]);
  });

  it('keeps history on the next file: a changed grant gets a new version, a missing one is ended', async () => {
    const before = await versions();
    const firstRun = before[0]!.run_id;
    const s = await load('临时救助-2.csv', [
      ['张三', testId(1), '石门村', '2026-03-05', '1200', '因病', '否'],
      ['李四', testId(2), '石门村', '2026-04-01', '900', '因灾', '是'],
    ]);
    expect(s).toMatchObject({ status: 'succeeded' });
    expect(s.counts).toMatchObject({ rows_read: 2, rows_unchanged: 1, rows_changed: 1, rows_ended: 1 });
    const after = await versions();
    expect(after.map((v) => [v.id_number, v.amount, v.run_id, v.ended_run_id, v.current])).toEqual([
      [testId(1), '1200.00', firstRun, null, true],
      [testId(2), '800.50', firstRun, s.runId, false],
      [testId(2), '900.00', s.runId, null, true],
      [testId(4), null, firstRun, s.runId, false],
    ]);
  });

  it('names what its table lacks when its declaration changes, until a migration adds it', async () => {
    const changed = defineFeed({
      ...temporaryAid,
      fields: {
        ...temporaryAid.fields,
        approved_by: { type: { kind: 'text' }, aliases: ['审批人'], classification: '个人信息' },
        amount: { ...temporaryAid.fields.amount, required: true },
      },
    });
    const feeds = { ...FEEDS, [changed.id]: changed };
    const drift =
      'feed tables do not match their declarations (a changed feed needs a numbered migration): test_temporary_aid.approved_by: no column (declared text)';
    await expect(migrate(wh.db, wh.schema, { feeds })).rejects.toThrow(drift);
    // Every command checking the schema before it starts says the same (src/cli/context.ts), not a first load.
    await expect(expectFeedTablesMatch(wh.db, wh.schema, Object.values(feeds))).rejects.toThrow(drift);
    // What the numbered migration would do; a field made required needs no change of the table to load.
    await sql`ALTER TABLE test_temporary_aid ADD COLUMN approved_by text`.execute(wh.db);
    await expect(expectFeedTablesMatch(wh.db, wh.schema, Object.values(feeds))).resolves.toBeUndefined();
    expect(await migrate(wh.db, wh.schema, { feeds })).toMatchObject({ applied: [], feedTables: [] });
    // The other way round, a NOT NULL column the declaration may leave empty would fail a load: named.
    await sql`ALTER TABLE test_temporary_aid ALTER COLUMN village SET NOT NULL`.execute(wh.db);
    await expect(migrate(wh.db, wh.schema, { feeds })).rejects.toThrow(
      'test_temporary_aid.village: NOT NULL, declared optional',
    );
    await sql`ALTER TABLE test_temporary_aid ALTER COLUMN village DROP NOT NULL`.execute(wh.db);
  });

  it('names the feed whose table PostgreSQL would not create', async () => {
    // Feed `test` with an index `temporary_aid`: the index would be test_temporary_aid, the extension feed's table
    // already there. PostgreSQL says only that the relation exists.
    const clash = defineFeed({ ...temporaryAid, id: 'test', indexes: { temporary_aid: ['village'] } });
    await expect(
      migrate(wh.db, wh.schema, { feeds: { ...FEEDS_WITH_EXTENSION, test: clash } }),
    ).rejects.toThrow('feed table test could not be created: relation "test_temporary_aid" already exists');
    // Nothing of it was left half made.
    const made = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_class
      WHERE relname = 'test' AND relnamespace = ${wh.schema}::regnamespace`.execute(wh.db);
    expect(made.rows[0]?.n).toBe(0);
  });

  it("is refused when its id names a warehouse table that is not a feed's", async () => {
    const runs = defineFeed({ ...temporaryAid, id: 'runs' });
    await expect(migrate(wh.db, wh.schema, { feeds: { ...FEEDS, runs } })).rejects.toThrow(
      /feed runs: schema \S+ has a table of that name that is not a feed table \(no runs_written trigger\)/,
    );
  });
});
