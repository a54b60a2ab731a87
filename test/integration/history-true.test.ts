/**
 * History-true matching (issue 21): a county's files of three data dates loaded out of order — the middle one
 * last, as a late file — give, at each date, exactly the findings of a fresh warehouse loaded only up to that
 * date, rule by rule; and the late file moves no live finding until a real match runs.
 */
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { FEED_IDS } from '../../pipelines/feeds/index.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import { RULE_IDS } from '../../pipelines/rules/index.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { type DemoCounty, generateDemoCounty } from '../../src/demo/generate.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { type DryRunFinding, runMatch } from '../../src/matching/run-match.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { versionValidAt } from '../../src/warehouse/feed-table.ts';
import { personId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { expectLoaded } from '../support/loads.ts';
import { testWarehouse } from '../support/warehouse.ts';

const DATES = ['2026-09-01', '2026-10-01', '2026-11-01'] as const;
type DataDate = (typeof DATES)[number];
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-history-');
const counties = {} as Record<DataDate, DemoCounty>;
const opened: Warehouse[] = [];

async function warehouse(label: string): Promise<Warehouse> {
  const wh = await testWarehouse(label);
  opened.push(wh);
  return wh;
}

/** Every feed of the county as it stood at `date`, loaded with that date as its data date. */
async function loadDate(wh: Warehouse, date: DataDate): Promise<void> {
  for (const id of FEED_IDS) {
    const path = counties[date].files[id];
    if (!path) continue;
    const s = await importFeed({
      wh,
      feed: resolveFeed(id),
      path,
      log,
      today: date,
      timeZone: 'Asia/Shanghai',
      dataDate: { date, from: 'flag' },
      // A month apart, the demo's small snapshots change by more than the guard's share.
      confirmShrink: true,
    });
    // The same file as the feed's last load, given a later date, is that picture again: nothing to write.
    if (s.status !== 'noop') expectLoaded(s);
    expect(s.dataDate).toEqual({ date, from: 'flag' });
  }
}

/** What a match as of `date` finds, rule by rule: each finding as a comparable line, sorted. */
async function findingsAt(wh: Warehouse, date: string): Promise<Record<string, string[]>> {
  const outcomes = await runMatch({ wh, config, log, asOf: date, dryRun: true, force: true });
  const byRule: Record<string, string[]> = {};
  for (const o of outcomes) {
    expect(o.status, `${o.rule} at ${date}: ${o.reason ?? ''}`).toBe('ran');
    byRule[o.rule] = (o.findings ?? [])
      .filter((f) => f.action !== 'close')
      .map((f: DryRunFinding) =>
        JSON.stringify([
          f.subject_kind,
          f.department,
          f.id_number,
          f.household_id,
          f.name,
          f.village,
          f.details,
        ]),
      )
      .sort();
  }
  return byRule;
}

const snapshot = (wh: Warehouse) =>
  sql<{ findings: string; events: string }>`SELECT
      (SELECT coalesce(string_agg(concat_ws('|', id, rule_id, state, deadline, closed_on, details::text), E'\\n' ORDER BY id), '') FROM findings) AS findings,
      (SELECT count(*)::text FROM finding_events) AS events`
    .execute(wh.db)
    .then((r) => r.rows[0]!);

let late: Warehouse;
const truth = {} as Record<DataDate, Record<string, string[]>>;

beforeAll(async () => {
  for (const date of DATES)
    counties[date] = await generateDemoCounty({ dir: `${dir}/${date}`, persons: 150, seed: 7, asOf: date });
  // The truth at each date: a fresh warehouse loaded in order up to that date only.
  for (const [i, date] of DATES.entries()) {
    const wh = await warehouse(`history_upto_${i}`);
    for (const d of DATES.slice(0, i + 1)) await loadDate(wh, d);
    truth[date] = await findingsAt(wh, date);
  }
  late = await warehouse('history_late');
}, 600_000);
afterAll(async () => {
  for (const wh of opened) await wh.close();
});

describe('history-true matching', () => {
  it('the three dates differ: the comparison below is not of one picture three times', () => {
    const changed = RULE_IDS.filter(
      (r) => JSON.stringify(truth[DATES[0]][r]) !== JSON.stringify(truth[DATES[2]][r]),
    );
    expect(changed.length).toBeGreaterThanOrEqual(3);
    for (const date of DATES) expect(Object.values(truth[date]).flat().length).toBeGreaterThan(20);
  });

  it('loaded out of order (the middle date last), a dry run at each date equals the warehouse loaded up to it, rule by rule; the late file moves no live finding', async () => {
    await loadDate(late, DATES[0]);
    await runMatch({ wh: late, config, log, asOf: DATES[0] });
    await loadDate(late, DATES[2]);
    await runMatch({ wh: late, config, log, asOf: DATES[2] });
    const live = await snapshot(late);
    const current = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM roster WHERE valid_to IS NULL`.execute(late.db);

    // The late file: every feed's middle date, loaded last.
    await loadDate(late, DATES[1]);
    const runs = await late.db
      .selectFrom('runs')
      .select(['data_date'])
      .where('kind', '=', 'import')
      .orderBy('id', 'desc')
      .limit(1)
      .execute();
    expect(runs[0]!.data_date).toBe(DATES[1]);
    // No finding or event moved, and the present is as the later load left it.
    expect(await snapshot(late)).toEqual(live);
    expect(
      (
        await sql<{ n: number }>`SELECT count(*)::int AS n FROM roster WHERE valid_to IS NULL`.execute(
          late.db,
        )
      ).rows,
    ).toEqual(current.rows);

    for (const date of DATES) {
      const got = await findingsAt(late, date);
      for (const rule of RULE_IDS) expect(got[rule], `${rule} as of ${date}`).toEqual(truth[date][rule]);
    }

    // A real match at the latest date moves the live findings to that date's picture — which the late file can
    // change: its records of an incremental feed (a death registered late) stand until a later load says
    // otherwise. Then a match finds nothing more to open, close or reopen.
    await runMatch({ wh: late, config, log, asOf: DATES[2], force: true });
    const again = await runMatch({ wh: late, config, log, asOf: DATES[2], dryRun: true, force: true });
    for (const o of again) {
      expect(o.findings?.filter((f) => f.action !== 'keep') ?? [], o.rule).toEqual([]);
      expect(o.findings?.length ?? 0, o.rule).toBe(truth[DATES[2]][o.rule]?.length);
    }
  }, 600_000);

  it('keeps one version per key and date: no two versions of a key describe the same date', async () => {
    for (const id of FEED_IDS) {
      const key = resolveFeed(id).key;
      const overlaps = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.id(id)} a
        JOIN ${sql.id(id)} b ON a.version_id < b.version_id
          AND ${sql.join(
            key.map((k) => sql`a.${sql.id(k)} = b.${sql.id(k)}`),
            sql` AND `,
          )}
          AND a.data_from < coalesce(b.data_to, 'infinity') AND b.data_from < coalesce(a.data_to, 'infinity')
          AND a.data_from < coalesce(a.data_to, 'infinity') AND b.data_from < coalesce(b.data_to, 'infinity')`.execute(
        late.db,
      );
      expect(overlaps.rows[0]!.n, id).toBe(0);
      const currency = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.id(id)}
        WHERE (valid_to IS NULL) <> (data_to IS NULL)`.execute(late.db);
      expect(currency.rows[0]!.n, `${id}: current exactly when open-ended`).toBe(0);
    }
  });
});

describe('a late snapshot, key by key', () => {
  const ROSTER = ['户编号', '姓名', '证件号码', '与户主关系', '户类型'];
  const [a, b, c] = [personId(1), personId(2), personId(3)];
  const load = async (wh: Warehouse, date: string, rows: string[][]) => {
    const path = writeCsv(join(dir, `roster-${date}-${rows.length}.csv`), [ROSTER, ...rows]);
    const s = await importFeed({
      wh,
      feed: resolveFeed('roster'),
      feedConfig: { header_aliases: {}, max_shrink: 1 },
      path,
      log,
      today: '2026-11-30',
      timeZone: 'Asia/Shanghai',
      dataDate: { date, from: 'flag' },
    });
    expectLoaded(s);
    return s;
  };
  /** Each person's household type as the roster said it at `date` (absent: not on the roster). */
  const at = async (wh: Warehouse, date: string) =>
    Object.fromEntries(
      (
        await sql<{
          id_number: string;
          household_type: string;
        }>`SELECT id_number, household_type FROM roster r
          WHERE ${versionValidAt('r', date)} ORDER BY 1`.execute(wh.db)
      ).rows.map((r) => [r.id_number, r.household_type]),
    );

  it('takes its place between the dates around it: changed, left out and new keys for its window only', async () => {
    const wh = await warehouse('history_keys');
    // 10-01: a and b; 11-01: the same (a loaded again unchanged, b too); late 10-15: a changed, b absent, c new.
    await load(wh, '2026-10-01', [
      ['H1', '张三', a, '户主', '监测户'],
      ['H2', '李四', b, '户主', '脱贫户'],
    ]);
    await load(wh, '2026-11-01', [
      ['H1', '张三', a, '户主', '监测户'],
      ['H2', '李四', b, '户主', '脱贫户'],
      ['H9', '钱九', personId(9), '户主', '脱贫户'],
    ]);
    const s = await load(wh, '2026-10-15', [
      ['H1', '张三', a, '户主', '脱贫户'],
      ['H3', '王五', c, '户主', '监测户'],
    ]);
    // Counted against the picture at its date (a and b): one changed, one new, one ended.
    expect(s.counts).toMatchObject({ rows_loaded: 2 });
    expect(await at(wh, '2026-10-01')).toEqual({ [a]: 'monitored', [b]: 'alleviated' });
    expect(await at(wh, '2026-10-15')).toEqual({ [a]: 'alleviated', [c]: 'monitored' });
    expect(await at(wh, '2026-10-31')).toEqual({ [a]: 'alleviated', [c]: 'monitored' });
    // What 11-01 established stands: a as it was, b back, c not there, and the current versions are those.
    const later = { [a]: 'monitored', [b]: 'alleviated', [personId(9)]: 'alleviated' };
    expect(await at(wh, '2026-11-01')).toEqual(later);
    const current = await sql<{ id_number: string; household_type: string }>`
      SELECT id_number, household_type FROM roster WHERE valid_to IS NULL ORDER BY 1`.execute(wh.db);
    expect(Object.fromEntries(current.rows.map((r) => [r.id_number, r.household_type]))).toEqual(later);
    // Every version says where it came from: a's three pieces, the middle one the late file's.
    const pieces = await sql<{ data_from: string; data_to: string | null; source: string }>`
      SELECT data_from::text, data_to::text, source FROM roster WHERE id_number = ${a} ORDER BY data_from`.execute(
      wh.db,
    );
    expect(pieces.rows).toEqual([
      { data_from: '2026-10-01', data_to: '2026-10-15', source: 'roster-2026-10-01-2.csv' },
      { data_from: '2026-10-15', data_to: '2026-11-01', source: 'roster-2026-10-15-2.csv' },
      { data_from: '2026-11-01', data_to: null, source: 'roster-2026-10-01-2.csv' },
    ]);
  });
});
