/**
 * Where a finding came from (issue 21): each event a match writes records the versions behind it — feed, load
 * run, file, sheet, row, data date — and keeps them after later loads end those versions; a dry run leaves none;
 * `findings --explain` shows them with the ID masked.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { runCli } from '../support/cli.ts';
import { personId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { databaseUrl, testWarehouse } from '../support/warehouse.ts';

const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-lineage-');
let wh: Warehouse;
let cfgFile: string;

type Person = { name: string; id: string };
const [A, B, C, F] = [1, 2, 3, 4].map((n): Person => ({ name: `溯源${n}`, id: personId(n) })) as [
  Person,
  Person,
  Person,
  Person,
];

const HEADERS = {
  roster: ['户编号', '姓名', '证件号码', '与户主关系', '户类型'],
  insurance: ['姓名', '公民身份号码', '险种', '参保年度', '参保状态'],
  water: ['户主姓名', '户主身份证号', '饮水是否安全', '问题类型'],
} as const;

/** Loads `rows` of `feed` from `<feed>-<week>.csv` as of `today` (also its data date, as --data-date); returns its run. */
async function load(feed: keyof typeof HEADERS, week: string, today: string, rows: string[][]) {
  const path = writeCsv(join(dir, `${feed}-${week}.csv`), [[...HEADERS[feed]], ...rows]);
  const s = await importFeed({
    wh,
    feed: resolveFeed(feed),
    feedConfig: { header_aliases: {}, max_shrink: 1 },
    path,
    log,
    today,
    dataDate: { date: today, from: 'flag' },
    timeZone: 'Asia/Shanghai',
  });
  expect(s.status).toBe('succeeded');
  return Number(s.runId);
}

const finding = (rule: string, subject: string) =>
  wh.db
    .selectFrom('findings')
    .select(['id', 'state'])
    .where('rule_id', '=', rule)
    .where('subject_key', '=', subject)
    .executeTakeFirstOrThrow()
    .then((f) => Number(f.id));

/** A finding's events in order, each with its lineage rows as `feed file#row run date`. */
async function lineageOf(findingId: number) {
  const events = await wh.db
    .selectFrom('finding_events')
    .select(['id', 'from_state', 'to_state'])
    .where('finding_id', '=', findingId)
    .orderBy('id')
    .execute();
  const rows = await wh.db
    .selectFrom('finding_lineage')
    .selectAll()
    .where('finding_id', '=', findingId)
    .orderBy('event_id')
    .orderBy('feed')
    .orderBy('source')
    .orderBy('row_number')
    .execute();
  return events.map((e) => ({
    move: `${e.from_state ?? '∅'}→${e.to_state}`,
    records: rows
      .filter((r) => Number(r.event_id) === Number(e.id))
      .map((r) => ({
        feed: r.feed,
        at: `${r.source}${r.sheet ? `:${r.sheet}` : ''}#${r.row_number}`,
        run: Number(r.run_id),
        data_date: r.data_date,
        as_of: r.as_of,
        kind: r.version_id !== null ? 'version' : 'quarantined',
        key: r.record_key,
      })),
  }));
}

const lineageCount = async () =>
  Number(
    (
      await wh.db
        .selectFrom('finding_lineage')
        .select(sql<string>`count(*)`.as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

const RULES = ['R02', 'R09', 'R13'] as const;
const runs: Record<string, number> = {};

beforeAll(async () => {
  wh = await testWarehouse('lineage');
  cfgFile = join(dir, 'config.yaml');
  writeFileSync(
    cfgFile,
    `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_TEST_URL, schema: ${wh.schema} }\n`,
  );
  // Week 1 (data of 2026-11-24): household H1 is A alone; H2 is B (head) and F; C alone in H3.
  runs.roster1 = await load('roster', 'w1', '2026-11-24', [
    ['H1', A.name, A.id, '户主', '监测户'],
    ['H2', B.name, B.id, '户主', '监测户'],
    ['H2', F.name, F.id, '之子', '监测户'],
    ['H3', C.name, C.id, '户主', '监测户'],
  ]);
  // A, B and F insured, A under another name (R13); C uninsured (R02); a row whose ID Excel turned into a
  // number (R13, a record: the row is quarantined, no version).
  runs.insurance1 = await load('insurance', 'w1', '2026-11-24', [
    ['溯源壹', A.id, '城乡居民', '2026', '正常参保'],
    [B.name, B.id, '城乡居民', '2026', '正常参保'],
    [F.name, F.id, '城乡居民', '2026', '正常参保'],
    ['无名氏', '5.20102E+17', '城乡居民', '2026', '正常参保'],
  ]);
  // B's household has no safe water (R09, a household finding: registered under the head's ID).
  runs.water1 = await load('water', 'w1', '2026-11-24', [[B.name, B.id, '否', '水量不足']]);
  await runMatch({ wh, config, log, asOf: '2026-11-24', rules: [...RULES] });
});
afterAll(async () => wh?.close());

describe('the lineage of a finding', () => {
  it('records, for each event a match wrote, the versions of the subject in the rule feeds', async () => {
    expect(await lineageOf(await finding('R02', C.id))).toEqual([
      {
        move: '∅→open',
        records: [
          {
            feed: 'roster',
            at: 'roster-w1.csv#5',
            run: runs.roster1,
            data_date: '2026-11-24',
            as_of: '2026-11-24',
            kind: 'version',
            key: { id_number: C.id },
          },
        ],
      },
    ]);
    // A household: every member's roster row (by 户编号) and the water record of any member (the head's).
    expect(await lineageOf(await finding('R09', 'H2'))).toEqual([
      {
        move: '∅→open',
        records: [
          expect.objectContaining({
            feed: 'roster',
            at: 'roster-w1.csv#3',
            run: runs.roster1,
            key: { id_number: B.id },
          }),
          expect.objectContaining({
            feed: 'roster',
            at: 'roster-w1.csv#4',
            run: runs.roster1,
            key: { id_number: F.id },
          }),
          {
            feed: 'water',
            at: 'water-w1.csv#2',
            run: runs.water1,
            data_date: '2026-11-24',
            as_of: '2026-11-24',
            kind: 'version',
            key: { head_id_number: B.id },
          },
        ],
      },
    ]);
    // R13's name conflict is a person finding: the roster's row and the department's.
    expect(await lineageOf(await finding('R13', `${A.id}:name:insurance`))).toEqual([
      {
        move: '∅→open',
        records: [
          expect.objectContaining({
            feed: 'insurance',
            at: 'insurance-w1.csv#2',
            run: runs.insurance1,
            kind: 'version',
            key: { id_number: A.id, year: 2026, scheme: 'resident' },
          }),
          expect.objectContaining({
            feed: 'roster',
            at: 'roster-w1.csv#2',
            run: runs.roster1,
            kind: 'version',
          }),
        ],
      },
    ]);
    // R13's unreadable ID is a record finding: the quarantined row itself, with the raw key values.
    const record = await wh.db
      .selectFrom('findings')
      .select('id')
      .where('rule_id', '=', 'R13')
      .where('subject_kind', '=', 'record')
      .executeTakeFirstOrThrow();
    expect(await lineageOf(Number(record.id))).toEqual([
      {
        move: '∅→open',
        records: [
          {
            feed: 'insurance',
            at: 'insurance-w1.csv#5',
            run: runs.insurance1,
            data_date: '2026-11-24',
            as_of: '2026-11-24',
            kind: 'quarantined',
            key: { id_number: '5.20102E+17', year: '2026', scheme: '城乡居民' },
          },
        ],
      },
    ]);
  });

  it('leaves no lineage after a dry run', async () => {
    // Week 2's files: C is insured, B's water is safe, the broken row is gone, C's roster row changes.
    runs.roster2 = await load('roster', 'w2', '2026-12-01', [
      ['H1', A.name, A.id, '户主', '监测户'],
      ['H2', B.name, B.id, '户主', '监测户'],
      ['H2', F.name, F.id, '之子', '监测户'],
      ['H3', C.name, C.id, '户主', '脱贫户'],
    ]);
    runs.insurance2 = await load('insurance', 'w2', '2026-12-01', [
      [A.name, A.id, '城乡居民', '2026', '正常参保'],
      [B.name, B.id, '城乡居民', '2026', '正常参保'],
      [F.name, F.id, '城乡居民', '2026', '正常参保'],
      [C.name, C.id, '城乡居民', '2026', '正常参保'],
    ]);
    runs.water2 = await load('water', 'w2', '2026-12-01', [[B.name, B.id, '是', '']]);
    const before = await lineageCount();
    const dry = await runMatch({ wh, config, log, asOf: '2026-12-01', rules: [...RULES], dryRun: true });
    expect(dry.map((o) => o.closed)).toEqual([1, 1, 2]);
    expect(await lineageCount()).toBe(before);
  });

  it('keeps the first event lineage after later loads end its versions, and gives the closure its own', async () => {
    await runMatch({ wh, config, log, asOf: '2026-12-01', rules: [...RULES] });
    const lineage = await lineageOf(await finding('R02', C.id));
    expect(lineage).toEqual([
      {
        move: '∅→open',
        records: [
          {
            feed: 'roster',
            at: 'roster-w1.csv#5',
            run: runs.roster1,
            data_date: '2026-11-24',
            as_of: '2026-11-24',
            kind: 'version',
            key: { id_number: C.id },
          },
        ],
      },
      {
        move: 'open→closed',
        records: [
          {
            feed: 'insurance',
            at: 'insurance-w2.csv#5',
            run: runs.insurance2,
            data_date: '2026-12-01',
            as_of: '2026-12-01',
            kind: 'version',
            key: { id_number: C.id, year: 2026, scheme: 'resident' },
          },
          {
            feed: 'roster',
            at: 'roster-w2.csv#5',
            run: runs.roster2,
            data_date: '2026-12-01',
            as_of: '2026-12-01',
            kind: 'version',
            key: { id_number: C.id },
          },
        ],
      },
    ]);
    // The version the opening names has been ended by week 2's roster; the lineage still reads as it was.
    const first = await wh.db
      .selectFrom('finding_lineage')
      .innerJoin('roster', 'roster.version_id', 'finding_lineage.version_id')
      .select(['roster.valid_to', 'roster.ended_run_id'])
      .where('finding_lineage.finding_id', '=', await finding('R02', C.id))
      .where('finding_lineage.run_id', '=', runs.roster1!)
      .executeTakeFirstOrThrow();
    expect(first.valid_to).not.toBeNull();
    expect(Number(first.ended_run_id)).toBe(runs.roster2);
    // The household's closure names week 2's water record (safe now); the record's closure names nothing:
    // the broken row is in no file of week 2.
    const household = await lineageOf(await finding('R09', 'H2'));
    expect(household.map((e) => e.move)).toEqual(['∅→open', 'open→closed']);
    expect(household[1]!.records.filter((r) => r.feed === 'water')).toEqual([
      expect.objectContaining({ at: 'water-w2.csv#2', run: runs.water2, data_date: '2026-12-01' }),
    ]);
    const record = await wh.db
      .selectFrom('findings')
      .select('id')
      .where('rule_id', '=', 'R13')
      .where('subject_kind', '=', 'record')
      .executeTakeFirstOrThrow();
    expect((await lineageOf(Number(record.id))).map((e) => [e.move, e.records.length])).toEqual([
      ['∅→open', 1],
      ['open→closed', 0],
    ]);
  });

  it('is not readable by the department role, which reads findings and their events', async () => {
    const can = async (table: string) =>
      (
        await sql<{ ok: boolean }>`SELECT has_table_privilege(${`${wh.schema}_department`},
          ${`${wh.schema}.${table}`}, 'SELECT') AS ok`.execute(wh.db)
      ).rows[0]!.ok;
    expect(await can('finding_events')).toBe(true);
    expect(await can('finding_lineage')).toBe(false);
  });

  it('is shown by findings --explain with the ID masked, in a table and as JSON', async () => {
    const id = await finding('R02', C.id);
    const env = { ...process.env, DATABASE_URL: '', RURALHUB_LOG_LEVEL: 'warn', RH_TEST_URL: databaseUrl() };
    const table = await runCli(['--config', cfgFile, 'findings', '--explain', String(id)], { env });
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    const masked = `${C.id.slice(0, 4)}**********${C.id.slice(-4)}`;
    expect(table.stdout).toContain(masked);
    expect(table.stdout).not.toContain(C.id);
    expect(table.stdout).toContain('防返贫监测对象名册');
    expect(table.stdout).toMatch(/roster-w1\.csv\s.*\s5\s/);
    expect(table.stdout).toMatch(/insurance-w2\.csv\s.*\s5\s/);

    const json = await runCli(
      ['--config', cfgFile, 'findings', '--explain', String(id), '--format', 'json'],
      {
        env,
      },
    );
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout) as {
      finding: { id: number; id_number: string };
      events: { to_state: string; records: { feed: string; source: string; row: number; key: object }[] }[];
    };
    expect(out.finding).toMatchObject({ id, id_number: masked });
    expect(out.events.map((e) => e.to_state)).toEqual(['open', 'closed']);
    expect(out.events[0]!.records).toEqual([
      expect.objectContaining({
        feed: 'roster',
        feed_title: '防返贫监测对象名册',
        source: 'roster-w1.csv',
        sheet: null,
        row: 5,
        run_id: runs.roster1,
        data_date: '2026-11-24',
        key: { 证件号码: masked },
      }),
    ]);
    // The insurance record behind the closure by its Chinese labels, its enum as the department spells it.
    expect(out.events[1]!.records.find((r) => r.feed === 'insurance')?.key).toEqual({
      公民身份号码: masked,
      参保年度: '2026',
      险种: '城乡居民',
    });
  });
});
