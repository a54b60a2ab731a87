/**
 * `match --from D1 --to D2 --dry-run`: the dry run at each date of a range, counted per date and rule, against the
 * findings as they stand. A small county is loaded once, dated 2026-08-30 — the first date of the range, so the
 * counts hold whether rules read the current versions or the versions valid at each date (issue 21's data-date
 * axis) — and the school year turning on 1 Sep moves R01's population and findings on that date exactly.
 * Nothing is written: no run, finding, event or audit row.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import type { FeedId } from '../../pipelines/feeds/index.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { type BackfillCounts, backfill } from '../../src/matching/backfill.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { runCli } from '../support/cli.ts';
import { testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { databaseUrl, testWarehouse } from '../support/warehouse.ts';

const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-backfill-');
/** The data's date and the backfill's first date: the loads are never dated after a date the test asks about. */
const DATA_DATE = '2026-08-30';
let wh: Warehouse;
let cfgFile: string;

type Person = { name: string; id: string };
const person = (n: number, born: string): Person => ({ name: `回填${n}`, id: testId(n, `520102${born}`) });
// The school year of a date starts on 1 Sep: up to 31 Aug 2026 compulsory age is born 2009-09-02 … 2019-08-31,
// from 1 Sep 2026 born 2010-09-02 … 2020-08-31 (min_age 6, max_age 16).
const HEAD = person(1, '19800111'); // an adult: in R02's population, never in R01's
const K1 = person(2, '20200315'); // no roll record: of school age, and found by R01, from 1 Sep
const K2 = person(3, '20190510'); // 在读: of school age throughout, never found
const K3 = person(4, '20100520'); // 辍学: found until 31 Aug, past school age from 1 Sep
const K4 = person(5, '20150202'); // no roll record, but schooled at home (送教上门): never found
const K5 = person(6, '20140707'); // 辍学 and schooled at home: the roll wins, found throughout
const K6 = person(7, '20180101'); // no roll record: found throughout
const people = [HEAD, K1, K2, K3, K4, K5, K6];

async function load(feed: FeedId, header: string[], rows: string[][]): Promise<void> {
  const path = writeCsv(join(dir, `${feed}.csv`), [header, ...rows]);
  const s = await importFeed({
    wh,
    feed: resolveFeed(feed),
    feedConfig: { header_aliases: {}, max_shrink: 1 },
    path,
    log,
    today: DATA_DATE,
    dataDate: { date: DATA_DATE, from: 'flag' },
    timeZone: 'Asia/Shanghai',
  });
  expect(s.status).toBe('succeeded');
}

/** Each command is a process of its own (~5–15 s on a loaded two-core machine): more than vitest's default minute. */
const CLI_TIMEOUT_MS = 180_000;

const ruralhub = (args: string[]) =>
  runCli(['--config', cfgFile, ...args], {
    env: { ...process.env, DATABASE_URL: '', RURALHUB_LOG_LEVEL: 'warn', RH_TEST_URL: databaseUrl() },
  });

/** Everything a match could write: the row counts, and every finding and event as stored. */
async function snapshot() {
  const n = async (table: 'findings' | 'finding_events' | 'runs' | 'audit_log') =>
    Number((await wh.db.selectFrom(table).select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
  return {
    findings: await n('findings'),
    finding_events: await n('finding_events'),
    runs: await n('runs'),
    audit_log: await n('audit_log'),
    rows: await wh.db.selectFrom('findings').selectAll().orderBy('id').execute(),
    events: await wh.db.selectFrom('finding_events').selectAll().orderBy('id').execute(),
  };
}

type Counts = Omit<BackfillCounts, 'asOf' | 'rule' | 'durationMs' | 'reason' | 'status'>;
const row = (
  asOf: string,
  rule: string,
  status: string,
  [population, open, neu, keep, close, reopen]: number[],
) => ({ as_of: asOf, rule, status, population, open, new: neu, keep, close, reopen }) as const;

/*
 * The findings as they stand before every backfill: R01 run as of 30 Aug (K3, K5, K6 opened) and as of 1 Sep (K1
 * opened, K3 closed by data). R02 never ran. So, against them:
 *   R01 on 30 and 31 Aug: K3 found again (reopen), K5 and K6 (keep), K1 not yet of school age (close) — open 3;
 *   R01 on 1 and 2 Sep:   K1, K5, K6 as they stand (keep) — open 3; K3 past school age, already closed.
 *   R01's population:     K2 K3 K4 K5 K6 up to 31 Aug, K1 K2 K4 K5 K6 from 1 Sep — 5 either way.
 *   R02 at every date:    K5 and K6 uninsured for 2026, both new; population all 7.
 * R01 as of 1 Sep is the last run's date, loads and parameters: a real match then would be a no-op (unchanged).
 */
const EXPECTED = [
  row('2026-08-30', 'R01', 'ran', [5, 3, 0, 2, 1, 1]),
  row('2026-08-30', 'R02', 'ran', [7, 2, 2, 0, 0, 0]),
  row('2026-08-31', 'R01', 'ran', [5, 3, 0, 2, 1, 1]),
  row('2026-08-31', 'R02', 'ran', [7, 2, 2, 0, 0, 0]),
  row('2026-09-01', 'R01', 'unchanged', [5, 3, 0, 3, 0, 0]),
  row('2026-09-01', 'R02', 'ran', [7, 2, 2, 0, 0, 0]),
  row('2026-09-02', 'R01', 'ran', [5, 3, 0, 3, 0, 0]),
  row('2026-09-02', 'R02', 'ran', [7, 2, 2, 0, 0, 0]),
];

const counts = (r: BackfillCounts) => ({
  as_of: r.asOf,
  rule: r.rule,
  status: r.status,
  population: r.population,
  open: r.open,
  new: r.new,
  keep: r.keep,
  close: r.close,
  reopen: r.reopen,
});

beforeAll(async () => {
  wh = await testWarehouse('backfill');
  cfgFile = join(dir, 'config.yaml');
  writeFileSync(
    cfgFile,
    `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_TEST_URL, schema: ${wh.schema} }\n`,
  );
  await load(
    'roster',
    ['户编号', '姓名', '证件号码', '与户主关系', '户类型'],
    people.map((p, i) => ['H1', p.name, p.id, i === 0 ? '户主' : '子女', '监测户']),
  );
  await load(
    'student_roll',
    ['学生姓名', '身份证件号', '学籍状态'],
    [
      [K2.name, K2.id, '在读'],
      [K3.name, K3.id, '辍学'],
      [K5.name, K5.id, '辍学'],
    ],
  );
  await load(
    'home_schooling',
    ['姓名', '身份证号'],
    [K4, K5].map((p) => [p.name, p.id]),
  );
  await load(
    'insurance',
    ['姓名', '公民身份号码', '险种', '参保年度', '参保状态'],
    [HEAD, K1, K2, K3, K4].map((p) => [p.name, p.id, '城乡居民', '2026', '正常参保']),
  );
  const [first] = await runMatch({ wh, config, log, asOf: '2026-08-30', rules: ['R01'] });
  expect(first).toMatchObject({ status: 'ran', found: 3, new: 3 });
  const [second] = await runMatch({ wh, config, log, asOf: '2026-09-01', rules: ['R01'] });
  expect(second).toMatchObject({ status: 'ran', found: 3, new: 1, stillOpen: 2, closed: 1, reopened: 0 });
});
afterAll(async () => wh?.close());

describe('match --from --to --dry-run (a dry-run backfill)', () => {
  it('counts per date and rule what a match at each date would do, and writes nothing', async () => {
    const before = await snapshot();
    const rows = await backfill({
      wh,
      config,
      log,
      dates: ['2026-08-30', '2026-08-31', '2026-09-01', '2026-09-02'],
      rules: ['R01', 'R02', 'R03'],
    });
    const skipped: Counts = {
      population: null,
      open: null,
      new: null,
      keep: null,
      close: null,
      reopen: null,
    };
    expect(rows.filter((r) => r.rule === 'R03').map((r) => ({ ...counts(r), reason: r.reason }))).toEqual(
      ['2026-08-30', '2026-08-31', '2026-09-01', '2026-09-02'].map((d) => ({
        as_of: d,
        rule: 'R03',
        status: 'skipped',
        ...skipped,
        reason: 'required feeds never loaded: assistance',
      })),
    );
    expect(rows.filter((r) => r.rule !== 'R03').map(counts)).toEqual(EXPECTED);
    expect(await snapshot()).toEqual(before);

    // Counted for one department: R01's findings are 教育局's, R02's 医保局's.
    const education = await backfill({
      wh,
      config,
      log,
      dates: ['2026-08-31', '2026-09-01'],
      rules: ['R01', 'R02'],
      counts: (f) => f.department === '教育局',
    });
    expect(education.map((r) => [r.asOf, r.rule, r.open, r.new, r.keep, r.close, r.reopen])).toEqual([
      ['2026-08-31', 'R01', 3, 0, 2, 1, 1],
      ['2026-08-31', 'R02', 0, 0, 0, 0, 0],
      ['2026-09-01', 'R01', 3, 0, 3, 0, 0],
      ['2026-09-01', 'R02', 0, 0, 0, 0, 0],
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it(
    'through the command: daily by default over a short range, weekly when asked, counts only',
    async () => {
      const before = await snapshot();
      const json = await ruralhub([
        'match',
        '--dry-run',
        '--from',
        '2026-08-30',
        '--to',
        '2026-09-02',
        '--rule',
        'R01',
        'R02',
        '--format',
        'json',
      ]);
      expect(json.code, json.stderr).toBe(0);
      const got = JSON.parse(json.stdout) as (ReturnType<typeof row> & { ms: number; reason: null })[];
      expect(got.map(({ ms, reason, ...r }) => r)).toEqual(EXPECTED);
      expect(got.every((r) => r.reason === null && Number.isInteger(r.ms))).toBe(true);

      const table = await ruralhub(['match', '--dry-run', '--from', '2026-08-30', '--to', '2026-09-02']);
      expect(table.code, table.stderr).toBe(0);
      const lines = table.stdout.split('\n');
      expect(lines[0]).toBe(
        'dry-run backfill, 4 dates from 2026-08-30 to 2026-09-02 every day: nothing was changed',
      );
      expect(lines[1]).toMatch(/^as_of +rule +status +population +open +new +keep +close +reopen +ms$/);
      expect(lines.filter((l) => /^2026-\d\d-\d\d /.test(l))).toHaveLength(4 * 13);
      expect(table.stdout).toMatch(/^2026-08-30 +R01 +ran +5 +3 +0 +2 +1 +1 +\d+$/m);
      expect(table.stdout).toMatch(/^2026-09-01 +R01 +unchanged +5 +3 +0 +3 +0 +0 +\d+$/m);
      expect(table.stdout).toMatch(/^2026-09-02 +R02 +ran +7 +2 +2 +0 +0 +0 +\d+$/m);
      // A skipped rule's reason once under the table, not once a date.
      expect(table.stdout.match(/^ {2}skipped R03: required feeds never loaded: assistance$/gm)).toHaveLength(
        1,
      );
      for (const text of [json.stdout, table.stdout]) {
        for (const p of people) {
          expect(text).not.toContain(p.id);
          expect(text).not.toContain(p.name);
        }
      }

      // Weekly: 30 Aug and 6 Sep (13 Sep is past --to); as of 6 Sep R01 stands as on 1 Sep.
      const csv = await ruralhub([
        'match',
        '--dry-run',
        '--from',
        '2026-08-30',
        '--to',
        '2026-09-12',
        '--every',
        'week',
        '-r',
        'R01',
        '--format',
        'csv',
      ]);
      expect(csv.code, csv.stderr).toBe(0);
      expect(
        csv.stdout
          .trim()
          .split(/\r?\n/)
          .map((l) => l.replace(/,\d+,$/, ',<ms>,')),
      ).toEqual([
        'as_of,rule,status,population,open,new,keep,close,reopen,ms,reason',
        '2026-08-30,R01,ran,5,3,0,2,1,1,<ms>,',
        '2026-09-06,R01,ran,5,3,0,3,0,0,<ms>,',
      ]);
      expect(await snapshot()).toEqual(before);
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'refuses, in one line and before touching the warehouse, what a backfill cannot be',
    async () => {
      const before = await snapshot();
      const cases: [string[], string][] = [
        [
          ['--from', '2026-08-30', '--to', '2026-09-02'],
          "--from/--to need --dry-run: a real backfill would close, reopen and re-date the live findings (and the departments' lists) date after date, so only a dry run is offered",
        ],
        [
          ['--dry-run', '--from', '2026-09-02', '--to', '2026-08-30'],
          '--from 2026-09-02 is after --to 2026-08-30',
        ],
        [
          ['--dry-run', '--from', '2026-08-30', '--to', '2026-09-02', '--as-of', '2026-09-01'],
          '--as-of and --from/--to exclude each other: a backfill takes its dates from the range',
        ],
        [
          ['--dry-run', '--from', '2026-08-30', '--to', '2026-09-02', '--full-ids'],
          '--full-ids does not go with --from/--to: a backfill prints counts only',
        ],
        [
          ['--dry-run', '--every', 'week'],
          '--from and --to go together (and --every with them): the range of dates to backfill',
        ],
      ];
      // At once: each is a process of its own, and the refusals read nothing another could change.
      const results = await Promise.all(cases.map(([args]) => ruralhub(['match', ...args])));
      expect(
        results.map((r, i) => ({ args: cases[i]![0], code: r.code, stderr: r.stderr.trim().split('\n') })),
      ).toEqual(
        cases.map(([args, message]) => ({ args, code: 2, stderr: [expect.stringContaining(message)] })),
      );
      expect(await snapshot()).toEqual(before);
    },
    CLI_TIMEOUT_MS,
  );

  it('counts what the real match at that date then does', async () => {
    const [real] = await runMatch({ wh, config, log, asOf: '2026-08-31', rules: ['R01'] });
    // 2026-08-31 R01 in EXPECTED: open 3 = new 0 + keep 2 + reopen 1, close 1.
    expect(real).toMatchObject({ status: 'ran', found: 3, new: 0, stillOpen: 2, reopened: 1, closed: 1 });
  });
});
