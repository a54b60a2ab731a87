/**
 * The retention schedule (issue 27; PIPL Arts. 19, 47) on a county whose history is aged in place: loads and
 * matches of 2020 and 2026, then their load times moved to their data dates. A dry run counts exactly what the
 * run deletes; the run deletes that and nothing else, each category audited with its counts; the ledger equation
 * holds for every run after it; a person who left every list in 2020 has no ID number left anywhere; and the
 * monthly report of a past month is what it was, from the findings left plus the retired counts.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import { type MonthlyFindings, monthlyFindings } from '../../src/reporting/monthly-report.ts';
import { planRetention, type RetentionOutcome, runRetention } from '../../src/retention/retention.ts';
import { retiredFindingsMonth, withRetired } from '../../src/retention/retired-findings.ts';
import { executeJob } from '../../src/scheduler/jobs.ts';
import { verifyAuditChain } from '../../src/warehouse/audit.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { type CliResult, runCli } from '../support/cli.ts';
import { personId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { databaseUrl, testWarehouse } from '../support/warehouse.ts';

const dir = tempDir('ruralhub-retention-');
const dropRoot = join(dir, 'drop');
const processed = join(dropRoot, 'roster', 'processed');
const config = parseConfig(
  `county: { name: 示范县, code: "520102" }\ndrop: { root: ${JSON.stringify(dropRoot)}, folders: { roster: roster } }`,
  'inline',
);
const log = silentLogger();
let wh: Warehouse;

/** The retention run's day: cut-offs are 2023-12-01 (findings, 3 y), 2021-12-01 (versions, IDs: 5 y), 2026-06-04
 * (quarantine, 180 d) and 2026-09-02 (drop files, 90 d). */
const TODAY = '2026-12-01';
const D1 = '2020-01-15';
const D2 = '2020-03-15';
const D3 = '2026-10-15';

type Person = { name: string; id: string };
const [A, B, C, D, E] = [1, 2, 3, 4, 5].map((n): Person => ({ name: `留存${n}`, id: personId(n) })) as [
  Person,
  Person,
  Person,
  Person,
  Person,
];

/**
 * The report as counted on TODAY. Typed so that it takes the report with or without its `today` parameter (being
 * added to src/reporting/monthly-report.ts while this was written).
 */
const monthly: (wh: Warehouse, month: string, today: string) => Promise<MonthlyFindings> = monthlyFindings;

const HEADERS = {
  roster: ['户编号', '姓名', '证件号码', '与户主关系', '户类型'],
  insurance: ['姓名', '公民身份号码', '险种', '参保年度', '参保状态'],
} as const;

const files: Record<string, string> = {};
async function load(feed: keyof typeof HEADERS, day: string, rows: string[][]) {
  const path = writeCsv(join(dir, `${feed}-${day}.csv`), [[...HEADERS[feed]], ...rows]);
  files[`${feed}-${day}`] = path;
  const s = await importFeed({
    wh,
    feed: resolveFeed(feed),
    feedConfig: { header_aliases: {}, max_shrink: 1 },
    path,
    log,
    today: day,
    dataDate: { date: day, from: 'flag' },
    timeZone: 'Asia/Shanghai',
  });
  // The same insurance file again is a recorded no-op run.
  expect(['succeeded', 'noop']).toContain(s.status);
  return Number(s.runId);
}

const roster = (...rows: [string, Person, string][]) =>
  rows.map(([h, p, type]) => [h, p.name, p.id, '户主', type]);
const insured = (year: string, ...people: Person[]) =>
  people.map((p) => [p.name, p.id, '城乡居民', year, '正常参保']);

const n = async (q: ReturnType<typeof sql>) =>
  Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM (${q}) x`.execute(wh.db)).rows[0]?.n);

/** Every table of the warehouse's schema whose rows, as text, hold `text`. */
async function tablesHolding(text: string): Promise<string[]> {
  const tables = await sql<{ t: string }>`SELECT tablename AS t FROM pg_tables
    WHERE schemaname = ${wh.schema} ORDER BY 1`.execute(wh.db);
  const out: string[] = [];
  for (const { t } of tables.rows) {
    const hit = await n(sql`SELECT 1 FROM ${sql.table(t)} x WHERE x::text LIKE ${`%${text}%`}`);
    if (hit) out.push(t);
  }
  return out;
}

/** What the warehouse holds, counted per table (and the emptied raw values, the purged IDs). */
async function snapshot() {
  return {
    findings: await n(sql`SELECT 1 FROM findings`),
    finding_events: await n(sql`SELECT 1 FROM finding_events`),
    finding_lineage: await n(sql`SELECT 1 FROM finding_lineage`),
    roster: await n(sql`SELECT 1 FROM roster`),
    insurance: await n(sql`SELECT 1 FROM insurance`),
    quarantine: await n(sql`SELECT 1 FROM quarantine`),
    quarantine_raw: await n(sql`SELECT 1 FROM quarantine WHERE raw_value IS NOT NULL OR record IS NOT NULL`),
    persons: await n(sql`SELECT 1 FROM persons`),
    persons_with_id: await n(sql`SELECT 1 FROM persons WHERE id_number IS NOT NULL`),
    runs: await n(sql`SELECT 1 FROM runs`),
  };
}

const sortReport = (r: MonthlyFindings) => {
  const by = <T>(rows: T[]) => [...rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return {
    ...r,
    states: by(r.states),
    movements: by(r.movements),
    overdue: by(r.overdue),
    villages: by(r.villages),
  };
};

const MONTHS = ['2020-01', '2020-02', '2020-03', '2020-04', '2023-06', '2026-10', '2026-11', '2026-12'];
const before: Record<string, MonthlyFindings> = {};
let snapBefore: Awaited<ReturnType<typeof snapshot>>;
let quarantineOfD1: number;
let plan: RetentionOutcome;
let done: RetentionOutcome;
let auditBefore: number;
let cfgFile: string;
let cliPlan: CliResult;

beforeAll(async () => {
  wh = await testWarehouse('retention');
  cfgFile = join(dir, 'config.yaml');
  writeFileSync(
    cfgFile,
    `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_TEST_URL, schema: ${wh.schema} }\n` +
      `drop: { root: ${JSON.stringify(dropRoot)}, folders: { roster: roster } }\n`,
  );
  // 2020-01-15: A, B, C, E on the roster (and a row whose ID cannot be read: quarantined); A and E insured. R02
  // opens B and C.
  await load('roster', D1, [
    ...roster(['H1', A, '监测户'], ['H2', B, '监测户'], ['H3', C, '监测户'], ['H5', E, '监测户']),
    ['H9', '坏行', '12345', '户主', '监测户'],
  ]);
  // E is sent twice under two names: a conflicting duplicate, which load_conflicts records with E's ID.
  await load('insurance', D1, [...insured('2020', A, E), ['留存伍', E.id, '城乡居民', '2020', '正常参保']]);
  await runMatch({ wh, config, log, asOf: D1, rules: ['R02'] });
  // 2020-03-15: B and E leave the roster, E the insurance list (R02 closes B's finding); C's household type
  // changes (its 2020-01 version ends, but C's finding stays, and with it the version).
  await load('roster', D2, roster(['H1', A, '监测户'], ['H3', C, '脱贫户']));
  await load('insurance', D2, insured('2020', A));
  await runMatch({ wh, config, log, asOf: D2, rules: ['R02'] });
  // 2026-10-15: D joins; C is insured at last (closed, recently); D is not (open).
  await load('roster', D3, roster(['H1', A, '监测户'], ['H3', C, '脱贫户'], ['H4', D, '监测户']));
  await load('insurance', D3, insured('2026', A, C));
  await runMatch({ wh, config, log, asOf: D3, rules: ['R02'] });

  // Age the history in place: every load happened on its data date (10:00 in the county), every version
  // began and ended with the loads that wrote and ended it, every person was first seen at their first load.
  await sql`UPDATE runs SET started_at = (coalesce(data_date, ${D3}::date)::timestamp + interval '10 hours') AT TIME ZONE 'Asia/Shanghai',
    finished_at = (coalesce(data_date, ${D3}::date)::timestamp + interval '10 hours 1 minute') AT TIME ZONE 'Asia/Shanghai'`.execute(
    wh.db,
  );
  for (const t of ['roster', 'insurance']) {
    await sql`UPDATE ${sql.table(t)} v SET valid_from = (SELECT finished_at FROM runs WHERE id = v.run_id),
      valid_to = (SELECT finished_at FROM runs WHERE id = v.ended_run_id)`.execute(wh.db);
  }
  await sql`UPDATE persons p SET first_seen = (SELECT finished_at FROM runs WHERE id = p.first_run_id)`.execute(
    wh.db,
  );

  // The drop folder: D1's roster file (loaded in 2020), D3's (loaded 47 days ago), a file nothing loaded.
  mkdirSync(processed, { recursive: true });
  copyFileSync(files[`roster-${D1}`] as string, join(processed, '2020-01-15T02-00-00-000Z-roster.csv'));
  copyFileSync(files[`roster-${D3}`] as string, join(processed, '2026-10-15T02-00-00-000Z-roster.csv'));
  writeFileSync(join(processed, 'never-loaded.csv'), '户编号,姓名\n');

  for (const m of MONTHS) before[m] = await monthly(wh, m, TODAY);
  snapBefore = await snapshot();
  quarantineOfD1 = await n(
    sql`SELECT 1 FROM quarantine q JOIN runs r ON r.id = q.run_id WHERE r.data_date = ${D1}::date`,
  );
  auditBefore = await n(sql`SELECT 1 FROM audit_log`);
  cliPlan = await runCli(
    ['--config', cfgFile, 'retention', 'run', '--dry-run', '--as-of', TODAY, '--format', 'json'],
    {
      env: { ...process.env, RH_TEST_URL: databaseUrl() },
    },
  );
  plan = await planRetention({ wh, config, today: TODAY });
  done = await runRetention({ wh, config, today: TODAY, actor: 'test' });
}, 120_000);
afterAll(async () => wh?.close());

describe('a retention run', () => {
  it('plans, as a dry run, exactly the counts it then deletes', async () => {
    const counts = (o: RetentionOutcome) =>
      Object.fromEntries(o.categories.map((c) => [c.category, c.count]));
    expect(counts(plan)).toEqual({
      findings: 1,
      versions: 3,
      persons: 2,
      quarantine: quarantineOfD1,
      drop_files: 1,
    });
    expect(counts(done)).toEqual(counts(plan));
    // The command's dry run, before anything was deleted, said the same (and changed nothing: the plan after it
    // counted as much).
    expect(cliPlan.stderr).toBe('');
    expect(JSON.parse(cliPlan.stdout)).toEqual(plan);
    for (const c of plan.categories) {
      expect(done.categories.find((d) => d.category === c.category)?.details).toMatchObject(c.details);
    }
    expect(quarantineOfD1).toBeGreaterThan(0);
    expect(plan.categories.find((c) => c.category === 'persons')?.details).toEqual({ load_conflicts: 1 });
    // Deleted is deleted: a second run on the same day finds nothing.
    const again = await planRetention({ wh, config, today: TODAY });
    expect(again.categories.map((c) => c.count)).toEqual([0, 0, 0, 0, 0]);
  });

  it('deletes what the schedule says and nothing else', async () => {
    const findingB = plan.categories.find((c) => c.category === 'findings')!.details;
    expect(await snapshot()).toEqual({
      ...snapBefore,
      findings: snapBefore.findings - 1,
      finding_events: snapBefore.finding_events - (findingB.events as number),
      finding_lineage: snapBefore.finding_lineage - (findingB.lineage as number),
      roster: snapBefore.roster - 2,
      insurance: snapBefore.insurance - 1,
      quarantine_raw: snapBefore.quarantine_raw - quarantineOfD1,
      persons_with_id: snapBefore.persons_with_id - 2,
    });
    expect(findingB).toMatchObject({ events: 2 });
    // B's closed finding went; C's (closed in 2026) and D's (open) stay.
    const left = await wh.db
      .selectFrom('findings')
      .select(['id_number', 'state'])
      .orderBy('id_number')
      .execute();
    expect(left).toEqual([
      { id_number: C.id, state: 'closed' },
      { id_number: D.id, state: 'open' },
    ]);
    // The versions that ended in 2020 went (B's, E's), but C's, whose finding stays; the current ones stay.
    const roster = await wh.db
      .selectFrom('roster')
      .select(['id_number', 'valid_to'])
      .orderBy('id_number')
      .orderBy('version_id')
      .execute();
    expect(roster.map((r) => [r.id_number, r.valid_to === null])).toEqual([
      [A.id, true],
      [C.id, false],
      [C.id, true],
      [D.id, true],
    ]);
    const insurance = await wh.db.selectFrom('insurance').select('id_number').orderBy('version_id').execute();
    expect(insurance.map((r) => r.id_number)).toEqual([A.id, A.id, C.id]);
    // Quarantined rows keep file, row, field and reason; only those of 2020 lost their raw values.
    const q = await sql<{ day: string; raw: boolean; purged: string | null }>`
      SELECT r.data_date AS day, (q.raw_value IS NOT NULL OR q.record IS NOT NULL) AS raw, q.raw_purged_on AS purged
      FROM quarantine q JOIN runs r ON r.id = q.run_id ORDER BY q.id`.execute(wh.db);
    for (const row of q.rows)
      expect(row).toEqual(
        row.day === D1 ? { day: D1, raw: false, purged: TODAY } : { day: row.day, raw: true, purged: null },
      );
    // The 2020 file went; the recent one and the one nothing loaded stay.
    expect(existsSync(join(processed, '2020-01-15T02-00-00-000Z-roster.csv'))).toBe(false);
    expect(existsSync(join(processed, '2026-10-15T02-00-00-000Z-roster.csv'))).toBe(true);
    expect(existsSync(join(processed, 'never-loaded.csv'))).toBe(true);
  });

  it('writes one audit row per category with its counts, and no ID number', async () => {
    const rows = await wh.db
      .selectFrom('audit_log')
      .select(['actor', 'action', 'row_count', 'details'])
      .where('id', '>', sql<number>`(SELECT min(id) - 1 FROM audit_log WHERE action LIKE 'retention.%')`)
      .orderBy('id')
      .execute();
    expect(await n(sql`SELECT 1 FROM audit_log`)).toBe(auditBefore + 5);
    expect(rows.map((r) => [r.actor, r.action, r.row_count])).toEqual([
      ['test', 'retention.findings', 1],
      ['test', 'retention.versions', 3],
      ['test', 'retention.persons', 2],
      ['test', 'retention.quarantine', quarantineOfD1],
      ['test', 'retention.drop_files', 1],
    ]);
    expect(rows[1]?.details).toEqual({ today: TODAY, roster: 2, insurance: 1 });
    for (const p of [A, B, C, D, E]) expect(JSON.stringify(rows)).not.toContain(p.id);
    expect((await verifyAuditChain(wh.db)).broken).toBeNull();
  });

  it('keeps the ledger equation of every run', async () => {
    expect(
      await n(sql`SELECT 1 FROM runs WHERE kind = 'import'
        AND rows_read <> rows_loaded + rows_quarantined + exact_duplicates + conflicting_duplicates`),
    ).toBe(0);
    expect(await n(sql`SELECT 1 FROM runs WHERE kind = 'import'`)).toBe(6);
  });

  it('leaves no ID number of a person who left every list in 2020, and the others’ where they were', async () => {
    expect(await tablesHolding(B.id)).toEqual([]);
    expect(await tablesHolding(E.id)).toEqual([]);
    const purged = await wh.db
      .selectFrom('persons')
      .select(['id_number', 'id_purged_on'])
      .where('id_purged_on', 'is not', null)
      .execute();
    expect(purged).toEqual([
      { id_number: null, id_purged_on: TODAY },
      { id_number: null, id_purged_on: TODAY },
    ]);
    expect(await tablesHolding(C.id)).toEqual([
      'finding_lineage',
      'findings',
      'insurance',
      'persons',
      'roster',
    ]);
  });

  it("runs as the scheduler's retention job, audited as the scheduler: nothing is left to delete", async () => {
    const scheduled = parseConfig(
      `county: { name: 示范县, code: "520102" }\nscheduler: { jobs: { keep: { kind: retention, cron: '0 3 1 * *' } } }`,
      'inline',
    );
    const job = scheduled.scheduler.jobs.keep;
    expect(job).toEqual({ kind: 'retention', cron: '0 3 1 * *', enabled: true });
    const r = await executeJob(job as NonNullable<typeof job>, {
      wh,
      config: scheduled,
      log,
      slot: new Date('2026-12-01T03:00:00+08:00'),
    });
    expect(r).toEqual({
      status: 'succeeded',
      runIds: [],
      summary: 'retention 2026-12-01: 0 findings, 0 versions, 0 persons, 0 quarantine, 0 drop_files',
    });
    const last = await wh.db
      .selectFrom('audit_log')
      .select(['actor', 'action', 'row_count'])
      .orderBy('id', 'desc')
      .limit(5)
      .execute();
    expect(last.map((a) => [a.actor, a.row_count])).toEqual(Array(5).fill(['scheduler', 0]));
  });

  it("gives a past month's report as before: the findings left plus the retired counts", async () => {
    expect(before['2020-01']?.states).toEqual([
      { rule_id: 'R02', department: '医保局', township: '', state: 'open', n: 2 },
    ]);
    for (const m of MONTHS) {
      const after = await monthly(wh, m, TODAY);
      const merged = withRetired(after, await retiredFindingsMonth(wh.db, m));
      expect(sortReport(merged), m).toEqual(sortReport(before[m] as MonthlyFindings));
    }
    // A later month (not yet reportable today) finds B's finding closed, placed as on the purge's day.
    expect((await retiredFindingsMonth(wh.db, '2027-03')).states).toEqual([
      { rule_id: 'R02', department: '医保局', township: '（名册外）', state: 'closed', n: 1 },
    ]);
    // Without the retired counts the report of March 2020 would lose B's closing: the report must read them.
    const march = await monthly(wh, '2020-03', TODAY);
    expect(march.movements.find((r) => r.rule_id === 'R02')?.closed ?? 0).toBe(
      (before['2020-03']?.movements.find((r) => r.rule_id === 'R02')?.closed ?? 0) - 1,
    );
  });
});
