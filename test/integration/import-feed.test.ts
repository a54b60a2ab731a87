import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import { valueAliasProblems } from '../../pipelines/feeds/resolve.ts';
import { roster } from '../../pipelines/feeds/roster.ts';
import { studentRoll } from '../../pipelines/feeds/student-roll.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { loadCurrentVersions } from '../../src/load/recognize.ts';
import { loadRegions } from '../../src/regions/load-regions.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import type { Database } from '../../src/warehouse/schema.ts';
import { testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { expectVersionsOfTable } from '../support/loads.ts';
import { feedState, testWarehouse } from '../support/warehouse.ts';

const HEADER = ['县', '乡镇', '村', '户编号', '姓名', '证件号码', '性别', '与户主关系', '户类型', '劳动技能'];
const row = (hh: string, name: string, id: string, type = '监测户') => [
  '示范县',
  '城关镇',
  '东村',
  hh,
  name,
  id,
  '男',
  '户主',
  type,
  '普通劳动力',
];

let wh: Warehouse;
const dir = tempDir();
const log = silentLogger();
const base = { log, today: '2026-11-24', timeZone: 'Asia/Shanghai' };

beforeAll(async () => {
  wh = await testWarehouse('import');
});
afterAll(async () => wh?.close());

/** Imports `rows` into `feed` as the department's CSV file `name` (written with the `csv` options). */
const importCsv = (
  feed: FeedDefinition,
  name: string,
  rows: Parameters<typeof writeCsv>[1],
  o: { confirmShrink?: boolean; csv?: Parameters<typeof writeCsv>[2] } = {},
) =>
  importFeed({
    ...base,
    wh,
    feed,
    confirmShrink: o.confirmShrink,
    path: writeCsv(join(dir, name), rows, o.csv),
  });

/** The roster's current versions of the households whose number starts with `prefix`, in household order. */
const currentHouseholds = <C extends keyof Database['roster'] & string>(
  prefix: string,
  columns: readonly C[],
) =>
  wh.db
    .selectFrom('roster')
    .select(columns)
    .where('valid_to', 'is', null)
    .where('household_id', 'like', `${prefix}%`)
    .orderBy('household_id')
    .execute();

describe('importing a roster CSV', () => {
  it('loads clean and dirty-but-recoverable rows, quarantines bad ones, and the counts reconcile', async () => {
    const file = writeCsv(
      join(dir, 'roster-gb18030.csv'),
      [
        ['示范县2026年监测对象名册'],
        HEADER,
        row('H1', '张三', '11010519491231002X'),
        row('H1', '李 四', ' 11010519491231002x'), // same ID, dirty: same key, other content → conflicting
        row('H2', '王五', "'１１０１０５１９４９１２３１００２Ｘ"), // full-width + apostrophe → same ID again
        row('H3', '赵六', '4.30102E+17'), // Excel destroyed it
        row('H4', '钱七', '110105194912310021'), // wrong check digit
        row('H5', '孙八', '110105500101123'), // old 15-digit, upgraded to 110105195001011234
        [],
        ['合计', '', '', '', '', '', '', '', '', ''],
      ],
      { encoding: 'gb18030' },
    );
    const s = await importFeed({ ...base, wh, feed: roster, path: file });
    expect(s.status).toBe('succeeded');
    expect(s.counts).toMatchObject({
      rows_read: 6,
      rows_loaded: 2,
      rows_new: 2,
      rows_quarantined: 2,
      exact_duplicates: 0,
      conflicting_duplicates: 2,
      rows_skipped: 2, // the blank row and the totals row; the title line is no record
    });
    const current = await wh.db
      .selectFrom('roster')
      .select(['id_number', 'name', 'household_id', 'row_number'])
      .where('valid_to', 'is', null)
      .orderBy('id_number')
      .execute();
    // The later row wins among rows sharing a key (no order field set): 王五 on spreadsheet row 5.
    expect(current).toEqual([
      { id_number: '11010519491231002X', name: '王五', household_id: 'H2', row_number: 5 },
      { id_number: '110105195001011234', name: '孙八', household_id: 'H5', row_number: 8 },
    ]);
    const q = await wh.db
      .selectFrom('quarantine')
      .select(['row_number', 'field', 'problem', 'raw_value', 'source'])
      .where('run_id', '=', s.runId)
      .orderBy('row_number')
      .execute();
    expect(q).toEqual([
      {
        row_number: 6,
        field: 'id_number',
        problem: 'id_sci_notation',
        raw_value: '4.30102E+17',
        source: 'roster-gb18030.csv',
      },
      {
        row_number: 7,
        field: 'id_number',
        problem: 'id_bad_checksum',
        raw_value: '110105194912310021',
        source: 'roster-gb18030.csv',
      },
    ]);
    const conflicts = await wh.db
      .selectFrom('load_conflicts')
      .select(['row_number', 'winner_row'])
      .orderBy('row_number')
      .execute();
    expect(conflicts).toEqual([
      { row_number: 3, winner_row: 5 },
      { row_number: 4, winner_row: 5 },
    ]);

    // The same file again is a no-op run.
    const again = await importFeed({ ...base, wh, feed: roster, path: file });
    expect(again.status).toBe('noop');
    const versions = await wh.db
      .selectFrom('roster')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(versions.n)).toBe(2);
  });

  it('ends records absent from the next snapshot and writes only changed rows, keeping history', async () => {
    const a = writeCsv(
      join(dir, 'roll-1.csv'),
      [
        ['学生姓名', '身份证件号', '学籍状态', '更新日期'],
        ['甲', '520102201508310028', '在读', '2026/9/1'],
        ['乙', '11010519491231002X', '在读', '2026年9月1日'],
      ],
      { encoding: 'utf8-bom' },
    );
    const first = await importFeed({ ...base, wh, feed: studentRoll, path: a });
    expect(first.counts).toMatchObject({ rows_new: 2, rows_ended: 0 });
    const b = writeCsv(join(dir, 'roll-2.csv'), [
      ['学生姓名', '身份证件号', '学籍状态', '更新日期'],
      ['甲', '520102201508310028', '辍学', '20261001'],
    ]);
    const second = await importFeed({ ...base, wh, feed: studentRoll, path: b, confirmShrink: true });
    expect(second.counts).toMatchObject({ rows_read: 1, rows_changed: 1, rows_ended: 1, rows_new: 0 });
    const history = await wh.db
      .selectFrom('student_roll')
      .select(['id_number', 'status', 'updated_on', 'run_id', 'ended_run_id'])
      .orderBy('id_number')
      .orderBy('version_id')
      .execute();
    expect(history).toEqual([
      {
        id_number: '11010519491231002X',
        status: 'enrolled',
        updated_on: '2026-09-01',
        run_id: first.runId,
        ended_run_id: second.runId,
      },
      {
        id_number: '520102201508310028',
        status: 'enrolled',
        updated_on: '2026-09-01',
        run_id: first.runId,
        ended_run_id: second.runId,
      },
      {
        id_number: '520102201508310028',
        status: 'dropped_out',
        updated_on: '2026-10-01',
        run_id: second.runId,
        ended_run_id: null,
      },
    ]);
  });

  it('keeps the record of a row the snapshot still carries but quarantined for a bad value', async () => {
    const HEAD = ['姓名', '身份证号', '送教学校', '送教开始日期'];
    const first = await importCsv(
      FEEDS.home_schooling,
      'keep-1.csv',
      [HEAD, ['丙', testId(401), '一小', '2026-09-01'], ['丁', testId(402), '一小', '2026-09-01']],
      { confirmShrink: true },
    );
    expect(first.status).toBe('succeeded');
    // 丁's start date is unreadable: the row is quarantined, but 丁 is in the file — not gone from the list.
    // A row whose ID is unreadable cannot be matched to a record, and 丙's record is not kept by it.
    const second = await importCsv(
      FEEDS.home_schooling,
      'keep-2.csv',
      [HEAD, ['丁', testId(402), '一小', '待定'], ['丙', '4.30102E+17', '一小', '']],
      { confirmShrink: true },
    );
    expect(second.counts).toMatchObject({ rows_read: 2, rows_quarantined: 2, rows_ended: 1 });
    const current = await wh.db
      .selectFrom('home_schooling')
      .select(['name', 'run_id'])
      .where('valid_to', 'is', null)
      .where('id_number', 'in', [testId(401), testId(402)])
      .execute();
    expect(current).toEqual([{ name: '丁', run_id: first.runId }]);
  });

  it('holds a snapshot that would end more than the allowed share of records', async () => {
    const c = writeCsv(join(dir, 'roll-3.csv'), [
      ['学生姓名', '身份证件号', '学籍状态'],
      ['乙', '11010519491231002X', '在读'],
    ]);
    const held = await importFeed({
      ...base,
      wh,
      feed: studentRoll,
      path: c,
      feedConfig: { max_shrink: 0.3 },
    });
    expect(held.status).toBe('held');
    const current = await wh.db
      .selectFrom('student_roll')
      .select('status')
      .where('valid_to', 'is', null)
      .execute();
    expect(current).toEqual([{ status: 'dropped_out' }]);
  });

  it('names the missing columns and the aliases it tried', async () => {
    const bad = writeCsv(join(dir, 'roll-bad.csv'), [
      ['姓名', '学校名称'],
      ['甲', '一小'],
    ]);
    await expect(importFeed({ ...base, wh, feed: studentRoll, path: bad })).rejects.toThrow(
      /roll-bad\.csv: required columns missing for feed student_roll: id_number \(tried: 身份证件号/,
    );
  });

  it('recognises re-sent rows by their raw hash instead of normalizing them again; a new region table resets that', async () => {
    const HEAD = ['户编号', '姓名', '证件号码', '与户主关系', '户类型', '乡镇', '村'];
    const A = ['R1', '甲', testId(101), '户主', '监测户', '城关镇', '新村'];
    const B = ['R2', '乙', testId(102), '户主', '监测户', '城关镇', '新村'];
    const C = ['R3', '丙', testId(103), '户主', '脱贫户', '城关镇', '老村'];
    const feed = { ...roster, id: 'roster' as const };
    const first = await importCsv(feed, 'r-1.csv', [HEAD, A, B, C], { confirmShrink: true });
    expect(first.counts).toMatchObject({ rows_read: 3, rows_new: 3 });

    // Next week: other order, B's household type changed, C's ID written with spaces (same person, other raw).
    const spaced = `${C[2]!.slice(0, 6)} ${C[2]!.slice(6)}`;
    const second = await importCsv(feed, 'r-2.csv', [
      HEAD,
      [...C.slice(0, 2), spaced, ...C.slice(3)],
      ['R2', '乙', testId(102), '户主', '脱贫户', '城关镇', '新村'],
      A,
    ]);
    expect(second.counts).toMatchObject({ rows_read: 3, rows_unchanged: 2, rows_changed: 1, rows_new: 0 });
    expect(second.recognized).toBe(1); // A only: B changed, C's raw form differs
    const current = await wh.db
      .selectFrom('roster')
      .select(['id_number', 'household_type', 'raw_hash', 'row_number'])
      .where('valid_to', 'is', null)
      .where('household_id', 'in', ['R1', 'R2', 'R3'])
      .orderBy('household_id')
      .execute();
    expect(current.map((r) => [r.id_number, r.household_type, r.row_number])).toEqual([
      [testId(101), 'monitored', 2], // unchanged: keeps its version (and the row number it was loaded from)
      [testId(102), 'alleviated', 3],
      [testId(103), 'alleviated', 4], // unchanged content: its version stays, only its raw hash is new
    ]);
    expect(current.every((r) => r.raw_hash !== null)).toBe(true);

    // The third load of the same rows recognises all three (C took its new raw hash).
    const third = await importCsv(feed, 'r-3.csv', [
      HEAD,
      A,
      ['R2', '乙', testId(102), '户主', '脱贫户', '城关镇', '新村'],
      [...C.slice(0, 2), spaced, ...C.slice(3)],
    ]);
    expect(third.counts).toMatchObject({ rows_unchanged: 3, rows_changed: 0 });
    expect(third.recognized).toBe(3);

    // A region table changes what a row normalizes to: nothing is recognised, and 老村 is now unknown.
    await loadRegions(
      wh,
      writeCsv(join(dir, 'regions.csv'), [
        ['行政区划代码', '名称', '级别', '上级代码'],
        ['520102000000', '示范县', '县', ''],
        ['520102001000', '城关镇', '镇', '520102000000'],
        ['520102001001', '新村', '村', '520102001000'],
      ]),
    );
    const fourth = await importCsv(
      feed,
      'r-4.csv',
      [HEAD, A, ['R2', '乙', testId(102), '户主', '脱贫户', '城关镇', '新村'], C],
      { confirmShrink: true },
    );
    expect(fourth.recognized).toBe(0);
    expect(fourth.counts).toMatchObject({ rows_read: 3, rows_quarantined: 1, rows_unchanged: 2 });
    await sql`DELETE FROM regions`.execute(wh.db);
  });
});

describe('a re-sent snapshot recognised before staging', () => {
  it('drops unchanged lines, yet lets the de-duplication order decide against a changed line of the same key', async () => {
    const HEAD = ['户编号', '姓名', '证件号码', '与户主关系', '户类型', '识别时间'];
    const person = (n: number, type: string, on: string) => [
      `P${n}`,
      `丁${n}`,
      testId(200 + n),
      '户主',
      type,
      on,
    ];
    const [a, b, c, d] = [1, 2, 3, 4].map((n) => person(n, '监测户', '2020-01-01'));
    const feed = { ...roster, id: 'roster' as const };
    const first = await importCsv(feed, 'p-1.csv', [HEAD, a!, b!, c!, d!], { confirmShrink: true });
    expect(first.counts).toMatchObject({ rows_new: 4 });
    const before = await currentHouseholds('P', ['id_number', 'row_number']);

    // Saved with LF line ends this time. A twice; B's old line and a later-identified changed one (it wins by
    // 识别时间); C's old line and an earlier-identified changed one (the old line wins); D gone; E new.
    const newerB = person(2, '脱贫户', '2021-05-01');
    const olderC = person(3, '脱贫户', '2019-01-01');
    const e = person(5, '监测户', '2020-01-01');
    const second = await importCsv(feed, 'p-2.csv', [HEAD, a!, b!, newerB, olderC, c!, a!, e], {
      confirmShrink: true,
      csv: { eol: '\n' },
    });
    expect(second.counts).toMatchObject({
      rows_read: 7,
      rows_loaded: 4,
      rows_new: 1,
      rows_changed: 1,
      rows_unchanged: 2,
      rows_ended: 1,
      exact_duplicates: 1,
      conflicting_duplicates: 2,
    });
    expect(second.recognized).toBe(3); // A, B's old line, C: taken from their versions, not normalized
    const current = await currentHouseholds('P', [
      'id_number',
      'household_type',
      'identified_on',
      'row_number',
      'run_id',
    ]);
    expect(current).toEqual([
      {
        id_number: testId(201),
        household_type: 'monitored',
        identified_on: '2020-01-01',
        row_number: before[0]!.row_number,
        run_id: first.runId,
      },
      {
        id_number: testId(202),
        household_type: 'alleviated',
        identified_on: '2021-05-01',
        row_number: 4,
        run_id: second.runId,
      },
      {
        id_number: testId(203),
        household_type: 'monitored',
        identified_on: '2020-01-01',
        row_number: before[2]!.row_number,
        run_id: first.runId,
      },
      {
        id_number: testId(205),
        household_type: 'monitored',
        identified_on: '2020-01-01',
        row_number: 8,
        run_id: second.runId,
      },
    ]);
    const conflicts = await wh.db
      .selectFrom('load_conflicts')
      .select(['business_key', 'row_number', 'winner_row'])
      .where('run_id', '=', second.runId)
      .orderBy('row_number')
      .execute();
    expect(conflicts).toEqual([
      { business_key: testId(202), row_number: 3, winner_row: 4 }, // B's old line lost to the newer one
      { business_key: testId(203), row_number: 5, winner_row: 6 }, // the older C lost to the recognised line
    ]);
  });
});

describe('recognition before staging, in the encodings and delimiters departments use', () => {
  it.each([
    ['GB18030 with tabs', { encoding: 'gb18030' as const, delimiter: '\t' }],
    ['UTF-8 with a BOM and semicolons', { encoding: 'utf8-bom' as const, delimiter: ';' }],
  ])(
    '%s: a re-sent file is recognised but for its changed row, whose new values load',
    async (_label, opts) => {
      const HEAD = ['户编号', '姓名', '证件号码', '与户主关系', '户类型', '乡镇'];
      const rows = [1, 2, 3].map((n) => [`E${n}`, `庚${n}`, testId(400 + n), '户主', '监测户', '城关镇']);
      const feed = { ...roster, id: 'roster' as const };
      const tag = opts.encoding;
      await importCsv(feed, `e-${tag}-1.csv`, [HEAD, ...rows], { confirmShrink: true, csv: opts });
      const changed = rows.map((r, i) => (i === 1 ? [...r.slice(0, 4), '脱贫户', '城关镇'] : r));
      const second = await importCsv(feed, `e-${tag}-2.csv`, [HEAD, ...changed], {
        confirmShrink: true,
        csv: opts,
      });
      expect(second.counts).toMatchObject({
        rows_read: 3,
        rows_unchanged: 2,
        rows_changed: 1,
        rows_ended: 0,
      });
      expect(second.recognized).toBe(2);
      const current = await currentHouseholds('E', ['name', 'household_type']);
      expect(current).toEqual([
        { name: '庚1', household_type: 'monitored' },
        { name: '庚2', household_type: 'alleviated' },
        { name: '庚3', household_type: 'monitored' },
      ]);
    },
  );
});

/** The roster file `name` written from `lines` as they are (CRLF after each), imported; with the load's log lines. */
async function importRosterLines(name: string, lines: readonly string[]) {
  const path = join(dir, name);
  const HEAD = ['户编号', '姓名', '证件号码', '与户主关系', '户类型'];
  writeFileSync(path, [HEAD.join(','), ...lines].map((l) => `${l}\r\n`).join(''));
  const log: string[] = [];
  const s = await importFeed({
    ...base,
    log: pino({ level: 'info' }, { write: (l: string) => void log.push(l) }),
    wh,
    feed: { ...roster, id: 'roster' as const },
    path,
    confirmShrink: true,
  });
  return {
    s,
    bulk: log.some((l) => l.includes('"path":"bulk"')),
    rowByRow: log.some((l) => l.includes('reading row by row')),
  };
}

describe('a blank line inside a bulk CSV', () => {
  it('is a skipped blank row, and the file still goes through COPY', async () => {
    const { s, bulk, rowByRow } = await importRosterLines('blank-line.csv', [
      `B1,辛一,${testId(501)},户主,监测户`,
      '',
      `B2,辛二,${testId(502)},户主,监测户`,
    ]);
    expect(s.counts).toMatchObject({ rows_read: 2, rows_skipped: 1, rows_loaded: 2 });
    expect(bulk).toBe(true);
    expect(rowByRow).toBe(false);
  });
});

describe('quotes in a CSV field', () => {
  it('inside a field that is not quoted, or after a closing quote, are text: the file is read row by row', async () => {
    // PostgreSQL's CSV parser takes every such quote as quoting and drops it (Q"1"a would be Q1a); Excel,
    // LibreOffice and the record reader keep it. A well-formed field in the same file reads as always.
    const { s, rowByRow } = await importRosterLines('stray-quotes.csv', [
      `Q"1"a,辛一,${testId(511)},户主,监测户`,
      `"Q""2""",辛二,${testId(512)},户主,监测户`,
      `"Q3"x,辛三,${testId(513)},户主,监测户`,
    ]);
    expect(rowByRow).toBe(true);
    expect(s.counts).toMatchObject({ rows_read: 3, rows_loaded: 3, rows_quarantined: 0 });
    expect((await currentHouseholds('Q', ['household_id'])).map((r) => r.household_id)).toEqual([
      'Q"1"a',
      'Q"2"',
    ]);
    expect((await currentHouseholds('"Q3', ['household_id'])).map((r) => r.household_id)).toEqual(['"Q3"x']);
  });

  it('quoted as CSV quotes them, are read through COPY, the same text', async () => {
    const { s, rowByRow } = await importRosterLines('quoted-quotes.csv', [
      `"R""1""a",辛一,${testId(521)},户主,监测户`,
      `"R, ""2""\r\n",辛二,${testId(522)},户主,监测户`,
    ]);
    expect(rowByRow).toBe(false);
    expect(s.counts).toMatchObject({ rows_read: 2, rows_loaded: 2 });
    expect((await currentHouseholds('R', ['household_id'])).map((r) => r.household_id)).toEqual([
      'R"1"a',
      'R, "2"',
    ]);
  });
});

describe("the ledger's file hash", () => {
  it('is the SHA-256 of the whole file, whether computed before the load (same size) or alongside it', async () => {
    const HEAD = ['户编号', '姓名', '证件号码', '与户主关系', '户类型'];
    const feed = { ...roster, id: 'roster' as const };
    const one = writeCsv(join(dir, 'h-1.csv'), [HEAD, ['H1', '戊', testId(301), '户主', '监测户']], {
      encoding: 'utf8-bom',
    });
    // Another size: hashed alongside. Same size, other bytes (甲→乙): hashed first, not a no-op.
    const two = writeCsv(join(dir, 'h-2.csv'), [HEAD, ['H1', '戊', testId(301), '户主', '脱贫户']]);
    const three = writeCsv(join(dir, 'h-3.csv'), [HEAD, ['H1', '己', testId(301), '户主', '脱贫户']]);
    const runs = [];
    for (const path of [one, two, three, three]) {
      runs.push(await importFeed({ ...base, wh, feed, path, confirmShrink: true }));
    }
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'noop']);
    const ledger = await wh.db
      .selectFrom('runs')
      .select(['id', 'source_sha256'])
      .where(
        'id',
        'in',
        runs.map((r) => r.runId),
      )
      .orderBy('id')
      .execute();
    const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
    expect(ledger.map((r) => r.source_sha256)).toEqual([sha(one), sha(two), sha(three), sha(three)]);
    const state = await wh.db
      .selectFrom('feed_state')
      .select(['last_sha256', 'last_bytes'])
      .where('feed', '=', 'roster')
      .executeTakeFirstOrThrow();
    expect(state).toEqual({ last_sha256: sha(three), last_bytes: statSync(three).size });
  });
});

describe('a file rewritten while it loads', () => {
  it('fails the load and leaves the warehouse as it was', async () => {
    const HEAD = ['户编号', '姓名', '证件号码', '与户主关系', '户类型'];
    const feed = { ...roster, id: 'roster' as const };
    const first = writeCsv(join(dir, 'w-1.csv'), [
      HEAD,
      ['W1', '庚一', testId(601), '户主', '监测户'],
      ['W2', '庚二', testId(602), '户主', '监测户'],
    ]);
    await importFeed({ ...base, wh, feed, path: first, confirmShrink: true });
    const current = () =>
      wh.db
        .selectFrom('roster')
        .select(['household_id', 'household_type', 'run_id'])
        .where('valid_to', 'is', null)
        .orderBy('household_id')
        .execute();
    const before = await current();
    // A feed with current versions is read twice (hashed, then staged): the department's export rewrites the
    // file (same size, other bytes) while the second pass runs.
    const second = writeCsv(join(dir, 'w-2.csv'), [
      HEAD,
      ['W1', '庚一', testId(601), '户主', '脱贫户'],
      ['W2', '庚二', testId(602), '户主', '脱贫户'],
    ]);
    let rewritten = false;
    const onProgress = (p: { phase: string }) => {
      if (p.phase !== 'staging' || rewritten) return;
      rewritten = true;
      writeFileSync(second, readFileSync(second).toString('utf8').replaceAll('庚', '辛'));
    };
    await expect(
      importFeed({ ...base, wh, feed, path: second, confirmShrink: true, onProgress }),
    ).rejects.toThrow('the file changed while it was being loaded');
    expect(rewritten).toBe(true);
    expect(await current()).toEqual(before);
    const last = await wh.db
      .selectFrom('runs')
      .select(['status'])
      .where('feed', '=', 'roster')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(last.status).toBe('failed');
  });
});

describe("the current versions' hashes, read for recognition", () => {
  it('come whole when packed by ranges of blocks, those without a hash apart', async () => {
    const feed = { ...roster, id: 'roster' as const };
    const HEAD = ['户编号', '姓名', '证件号码', '与户主关系', '户类型'];
    // Enough rows for the table to span several blocks.
    const people = Array.from({ length: 60 }, (_, i) => [
      `V${i}`,
      `壬${i}`,
      testId(700 + i),
      '户主',
      '监测户',
    ]);
    await importCsv(feed, 'v.csv', [HEAD, ...people], { confirmShrink: true });
    // A version with no raw hash (as one loaded before raw hashes were kept) is one no file can carry unchanged.
    await sql`UPDATE roster SET raw_hash = NULL WHERE household_id = 'V3' AND valid_to IS NULL`.execute(
      wh.db,
    );
    // One block per packed value: the current versions come in several.
    const size = await sql<{
      blocks: number;
    }>`SELECT (pg_relation_size('roster') / 8192)::int AS blocks`.execute(wh.db);
    expect(size.rows[0]!.blocks).toBeGreaterThan(1);
    // The UPDATE above replaced the feed's generation: the cache no longer counts, the table is read.
    const { generation } = await feedState(wh.db, 'roster');
    const got = await loadCurrentVersions(wh.db, wh.pool, feed, 0, generation, { blocksPerValue: 1 });
    expect(got?.fromCache).toBe(false);
    // Every stored hash is in the set, under its version; the one without a hash apart.
    const { rows, unrecognizable } = await expectVersionsOfTable(wh, got);
    expect(rows.length).toBeGreaterThan(4);
    expect(unrecognizable).toHaveLength(1);
  });
});

describe('a CSV saved from a sheet with a two-row header', () => {
  it('finds the header cell merged down from the group row, below a title line', async () => {
    const file = writeCsv(
      join(dir, 'disasters-two-row-header.csv'),
      [
        ['示范县2026年自然灾害受灾农户台账'],
        ['户主信息', '', '灾种', '受灾情况', ''],
        ['户主姓名', '户主身份证号', '', '受灾日期', '直接经济损失（元）'],
        ['吴一', testId(501), '洪涝', '2026/6/3', '¥12,000'],
        ['合计', '', '', '', '12000'],
      ],
      { encoding: 'gb18030' },
    );
    const s = await importFeed({ ...base, wh, feed: FEEDS.disasters, path: file });
    expect(s.counts).toMatchObject({ rows_read: 1, rows_loaded: 1, rows_quarantined: 0, rows_skipped: 1 });
    const rows = await wh.db
      .selectFrom('disasters')
      .select(['head_name', 'disaster_type', 'hit_on', 'loss', 'row_number'])
      .where('valid_to', 'is', null)
      .execute();
    expect(rows).toEqual([
      { head_name: '吴一', disaster_type: '洪涝', hit_on: '2026-06-03', loss: '12000.00', row_number: 4 },
    ]);
  });
});

describe("a county's own spellings", () => {
  const INS = ['姓名', '公民身份号码', '险种', '参保年度', '参保状态', '出生日期'];
  const rows = [
    INS,
    ['甲', testId(301), '城乡居民', '2026年度', '正常参保', '2010/3/1 0:00'],
    ['乙', testId(302), '居民', '2026', '参保', ''],
  ];

  it('loads values spelt the way the county configured them, and the same file again once they are configured', async () => {
    const file = writeCsv(join(dir, 'insurance-own-words.csv'), rows);
    const first = await importFeed({ ...base, wh, feed: FEEDS.insurance, path: file });
    expect(first.counts).toMatchObject({ rows_read: 2, rows_loaded: 1, rows_quarantined: 1 });
    expect(first.problems).toEqual({
      'scheme:value_not_in_vocabulary': 1,
      'status:value_not_in_vocabulary': 1,
    });

    const feedConfig = {
      value_aliases: { scheme: { resident: ['居民'] }, status: { active: ['参保'] } },
    };
    const second = await importFeed({ ...base, wh, feed: FEEDS.insurance, feedConfig, path: file });
    expect(second.status).toBe('succeeded'); // not a no-op: the vocabulary changed
    expect(second.counts).toMatchObject({ rows_read: 2, rows_loaded: 2, rows_quarantined: 0 });
    const current = await wh.db
      .selectFrom('insurance')
      .select(['name', 'scheme', 'year', 'status', 'birth_date'])
      .where('valid_to', 'is', null)
      .orderBy('name')
      .execute();
    expect(current).toEqual([
      { name: '乙', scheme: 'resident', year: 2026, status: 'active', birth_date: null },
      { name: '甲', scheme: 'resident', year: 2026, status: 'active', birth_date: '2010-03-01' },
    ]);
    const third = await importFeed({ ...base, wh, feed: FEEDS.insurance, feedConfig, path: file });
    expect(third.status).toBe('noop');
  });

  it('names the year a stray row would end when a per-year snapshot is held', async () => {
    const HEAD = ['姓名', '公民身份号码', '险种', '参保年度', '参保状态'];
    const y2024 = [1, 2, 3].map((i) => ['丙', testId(310 + i), '城乡居民', '2024', '正常参保']);
    const first = await importCsv(FEEDS.insurance, 'ins-2024.csv', [HEAD, ...y2024]);
    expect(first.status).toBe('succeeded');
    // A 2025 file with one 2024 row in it: 2024 is in scope, and two of its three records would end.
    const held = await importCsv(FEEDS.insurance, 'ins-2025-stray.csv', [
      HEAD,
      y2024[0]!,
      ['丁', testId(321), '职工', '2025', '正常参保'],
    ]);
    expect(held.status).toBe('held');
    expect(held.message).toMatch(/would end 2 of \d+ current records \(参保年度 2024: 2 of 3\)/);
  });

  it('refuses a spelling for a field that is no closed vocabulary, or a value the field does not have', () => {
    expect(
      valueAliasProblems(FEEDS.insurance, {
        place: { x: ['y'] },
        status: { paid: ['缴费'], active: ['参保', ' 终 止 '] },
      }),
    ).toEqual([
      'feeds.insurance.value_aliases.place: not a closed-vocabulary field of insurance (those are: scheme, status)',
      'feeds.insurance.value_aliases.status.paid: not a value of status (values: active, suspended, terminated)',
      "feeds.insurance.value_aliases.status.active: ' 终 止 ' already means terminated",
    ]);
  });
});
