/**
 * The CLI's tables fit a terminal (issue 23): the default `runs` table is at most 120 columns wide, a listing cut
 * at --limit says how many it left out, a match run's import counts are blank, a finding's details read as the
 * rule's list headers say them, and the match summary names every department a rule's findings go to.
 */
import { describe, expect, it } from 'vitest';
import { displayWidth } from '../../core/chars.ts';
import { findingsTable } from '../../src/cli/commands/findings.ts';
import {
  RUNS_DEFAULT_COLUMNS,
  RUNS_TABLE_COLUMNS,
  type RunForTable,
  runsTable,
} from '../../src/cli/commands/runs.ts';
import { detailsText } from '../../src/cli/finding-columns.ts';
import { matchTable, noteLines } from '../../src/cli/summaries.ts';
import { formatTable, parseColumns } from '../../src/cli/table.ts';
import type { ImportSummary } from '../../src/load/import-feed.ts';
import { ZERO_COUNTS } from '../../src/warehouse/ledger.ts';

const importRun = (id: number, over: Partial<RunForTable> = {}): RunForTable => ({
  id,
  kind: 'import',
  feed: 'home_schooling',
  source: '2026年11月送教上门学生花名册（全县汇总）最终版.xlsx',
  status: 'succeeded',
  started_at: '2026-11-24 09:15:02',
  finished_at: '2026-11-24 09:15:09',
  rows_read: '123456',
  rows_loaded: '120000',
  rows_new: '3',
  rows_changed: '4',
  rows_unchanged: '119993',
  rows_ended: '5',
  rows_quarantined: '3400',
  exact_duplicates: '50',
  conflicting_duplicates: '6',
  rows_skipped: '0',
  error: null,
  data_date: '2026-11-20',
  data_date_from: 'flag',
  details: {},
  ...over,
});

const matchRun: RunForTable = {
  ...importRun(10236),
  kind: 'match',
  feed: null,
  source: 'R10',
  rows_read: '0',
  rows_loaded: '0',
  rows_new: '0',
  rows_changed: '0',
  rows_unchanged: '0',
  rows_ended: '0',
  rows_quarantined: '0',
  exact_duplicates: '0',
  conflicting_duplicates: '0',
  data_date: null,
  data_date_from: null,
  details: {
    rule: 'R10',
    as_of: '2026-11-24',
    loads: [1],
    population: 812,
    found: 7,
    new: 2,
    reopened: 1,
    stillOpen: 4,
    closed: 3,
  },
};

describe('the CLI table renderer', () => {
  it('counts a CJK character two columns wide when padding', () => {
    expect(
      formatTable(
        ['部门', 'n'],
        [
          ['乡村振兴局', 1],
          ['ab', 22],
        ],
      ),
    ).toBe(['部门         n', '----------  --', '乡村振兴局   1', 'ab          22'].join('\n'));
  });

  it('cuts the shrinkable columns to fit a width, a CJK cell by whole characters', () => {
    expect(
      formatTable(['n', 'file'], [[1, '学生花名册.xlsx']], { width: 12, shrink: ['file'] }).split('\n'),
    ).toEqual(['n  file', '-  ---------', '1  学生花名…']);
  });

  it('refuses an unknown --columns name, listing the columns', () => {
    expect(parseColumns('id,status', RUNS_TABLE_COLUMNS, RUNS_DEFAULT_COLUMNS)).toEqual(['id', 'status']);
    expect(() => parseColumns('id,colour', ['id', 'status'], ['id'])).toThrow(
      "--columns: unknown column 'colour'; columns are id, status",
    );
  });

  it('takes a column by another name it answers to (runs: feed and rule for feed/rule, as CSV and JSON name it)', () => {
    const aliases = { feed: 'feed/rule', rule: 'feed/rule' } as const;
    expect(parseColumns('id,feed,source', RUNS_TABLE_COLUMNS, RUNS_DEFAULT_COLUMNS, aliases)).toEqual([
      'id',
      'feed/rule',
      'source',
    ]);
    expect(parseColumns('rule,feed/rule', RUNS_TABLE_COLUMNS, RUNS_DEFAULT_COLUMNS, aliases)).toEqual([
      'feed/rule',
    ]);
  });
});

describe('ruralhub runs as a table', () => {
  const sample = [matchRun, ...Array.from({ length: 19 }, (_, i) => importRun(10235 - i))];
  const table = runsTable(sample, { columns: RUNS_DEFAULT_COLUMNS, omitted: 412 });
  const lines = table.split('\n');

  it('fits 120 columns by default; a file name asked for is cut to fit', () => {
    expect(Math.max(...lines.map(displayWidth))).toBe(118);
    expect(lines[0]).toBe(
      '   id  kind    feed/rule       status     started_at             read  loaded  quarantined  opened  closed  data_date',
    );
    expect(lines[3]).toBe(
      '10235  import  home_schooling  succeeded  2026-11-24 09:15:02  123456  120000         3400                  2026-11-20',
    );
    const usual = runsTable(
      [importRun(12, { rows_read: '2310', rows_loaded: '2301', rows_quarantined: '9' })],
      { columns: RUNS_DEFAULT_COLUMNS, omitted: 0 },
    ).split('\n');
    expect(usual[2]).toBe(
      '12  import  home_schooling  succeeded  2026-11-24 09:15:02  2310    2301            9                  2026-11-20',
    );
    // The file, asked for, is cut to the width left.
    const withFile = runsTable(
      [importRun(12, { rows_read: '2310', rows_loaded: '2301', rows_quarantined: '9' })],
      {
        columns: [
          'id',
          'feed/rule',
          'status',
          'started_at',
          'read',
          'loaded',
          'quarantined',
          'data_date',
          'source',
        ],
        omitted: 0,
      },
    ).split('\n');
    expect(withFile.map(displayWidth)).toEqual([97, 120, 120]);
    expect(withFile[2]).toBe(
      '12  home_schooling  succeeded  2026-11-24 09:15:02  2310    2301            9  2026-11-20  2026年11月送教上门学生花名册…',
    );
  });

  it("leaves a match run's import counts blank and shows its own figures", () => {
    expect(lines[2]).toBe(
      '10236  match   R10             succeeded  2026-11-24 09:15:02                                    3       3',
    );
    const chosen = runsTable([matchRun], {
      columns: [
        'id',
        'kind',
        'read',
        'new',
        'population',
        'found',
        'opened',
        'still_open',
        'reopened',
        'closed',
      ],
      omitted: 0,
    }).split('\n');
    expect(chosen[2]).toBe(
      '10236  match                    812      7       3           4         1       3',
    );
  });

  it('ends a listing cut at --limit with how many more there are, and prints errors under it', () => {
    expect(lines).toHaveLength(2 + 20 + 1);
    expect(lines.at(-1)).toBe('… 412 more (use --limit)');
    const failed = runsTable([importRun(9, { status: 'failed', error: 'input file not found: x.csv' })], {
      columns: ['id', 'status'],
      omitted: 0,
    });
    expect(failed.split('\n')).toEqual([
      'id  status',
      '--  ------',
      ' 9  failed',
      '  run 9: input file not found: x.csv',
    ]);
  });
});

describe('findings and match for a person at a terminal', () => {
  it('renders details as the rule’s 标签：值', () => {
    expect(detailsText('R10', { died_on: '2026-01-05', benefit: '低保' })).toBe(
      '死亡日期：2026-01-05；仍在享受：低保',
    );
    expect(detailsText('R13', { source: 'r.csv', row: 3, conflict: '证件号无效', reference: null })).toBe(
      '数据来源：r.csv；行号：3；问题：证件号无效',
    );
    const finding = (id: number) => ({
      id,
      rule: 'R10',
      owner: '医保局',
      subject_kind: 'person',
      id_number: '5201**********0028',
      household_id: null,
      source_file: null,
      source_row: null,
      name: '甲',
      township: null,
      village: null,
      state: 'open',
      first_seen: '2026-11-24',
      last_seen: '2026-11-24',
      deadline: '2026-12-09',
      overdue_days: 0,
      details: { died_on: '2026-01-05', benefit: '城乡居民医保' },
    });
    expect(findingsTable([finding(1), finding(2)], ['id', 'owner', 'details'], 1).split('\n')).toEqual([
      'id  owner   details',
      '--  ------  --------------------------------------------',
      ' 1  医保局  死亡日期：2026-01-05；仍在享受：城乡居民医保',
      '… 1 more (use --limit)',
    ]);
  });

  it("names every department of a rule's findings in the match summary", () => {
    const outcome = {
      status: 'ran' as const,
      population: 1,
      found: 0,
      new: 0,
      stillOpen: 0,
      closed: 0,
      reopened: 0,
    };
    const lines = matchTable([
      { ...outcome, rule: 'R10', name: '死亡人员待遇未停', owner: '民政局', durationMs: 12.4 },
      { ...outcome, rule: 'R13', name: '身份信息冲突', owner: '乡村振兴局', durationMs: 1 },
    ]).split('\n');
    expect(lines[2]).toBe(
      'R10   死亡人员待遇未停  民政局、医保局、乡村振兴局  ran              1      0    0           0       0         0  12',
    );
    expect(lines[3]).toMatch(/^R13 {3}身份信息冲突 {6}10 个部门（见下） {11}ran/);
    expect(lines[4]).toBe(
      '  R13 owners: 乡村振兴局、教育局、医保局、民政局、住建局、水利局、人社局、残联、公安局、应急管理局',
    );
  });
});

describe("an import's notes under its table", () => {
  const noop = (source: string, run: number): ImportSummary => ({
    runId: run + 1,
    feed: 'roster',
    source,
    status: 'noop',
    counts: { ...ZERO_COUNTS },
    problems: {},
    unmappedColumns: [],
    message: `identical to run ${run}`,
  });

  it('name the file of each when the command loaded several (a new user could not tell them apart)', () => {
    expect(noteLines([noop('a.csv', 16), noop('b.csv', 18)])).toEqual([
      '  roster a.csv: identical to run 16',
      '  roster b.csv: identical to run 18',
    ]);
    expect(noteLines([noop('a.csv', 16)])).toEqual(['  roster: identical to run 16']);
  });
});
