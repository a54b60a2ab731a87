/**
 * The loader on a Citus cluster against the same loads on one server (issue 26): the demo county's twelve feeds
 * imported through importFeed on both — on the cluster the statements meeting a distributed feed table take their
 * cluster forms (src/load/placement.ts: normalized staging copied, co-located, to the workers) — with the same
 * ledger counts and the same versions; every rule R01–R13 then finds the same findings on both, rule by rule. Then,
 * on both: the roster's file sent again (a no-op in the ledger, no version written), a 1 % change of insurance
 * (exactly the changed rows get new versions, the same on both) and a department's answered list imported
 * (the findings' states agree); last, a settlement re-sent under another person's ID (its key, settlement_id, lacks
 * the distribution column): one current version of it, under the new ID, on both, and the same R04 findings.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type Logger, silentLogger } from '../../core/log.ts';
import { FEED_IDS, type FeedId } from '../../pipelines/feeds/index.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import { RULE_IDS, type RuleId } from '../../pipelines/rules/index.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { exportLists } from '../../src/delivery/export-lists.ts';
import { type FeedbackOutcome, importFeedback } from '../../src/delivery/import-feedback.ts';
import { type DemoCounty, generateDemoCounty } from '../../src/demo/generate.ts';
import { type ImportSummary, importFeed } from '../../src/load/import-feed.ts';
import { distributeStaging } from '../../src/load/placement.ts';
import { movedVersions } from '../../src/load/version-match.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { tempDir } from '../support/files.ts';
import { planProblems } from './plan.ts';
import { clusterUrl, findingsOf, singleUrl, stopwatch, versionsOf, warehouseAt } from './support.ts';

const AS_OF = '2026-11-24';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-cluster-loads-');

type Where = 'single' | 'cluster';
const WHERE: readonly Where[] = ['single', 'cluster'];
const wh = {} as Record<Where, Warehouse>;
/** Each feed's first import on each server. */
const imports = { single: {}, cluster: {} } as Record<Where, Partial<Record<FeedId, ImportSummary>>>;
/** Each rule's match on each server: its findings, or the error it failed with. */
const matched = { single: {}, cluster: {} } as Record<Where, Partial<Record<RuleId, string[] | Error>>>;
let county: DemoCounty;
const { timings, timed } = stopwatch();

/** Each import's phases (milliseconds) as its 'published' log line gives them, by the timing's label. */
const phases: Record<string, Record<string, number>> = {};
function phaseLogger(label: string): Logger {
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; ms?: Record<string, number> };
        if (entry.msg === 'published' && entry.ms) phases[label] = entry.ms;
      }
      done();
    },
  });
  return createLogger({ level: 'info', pretty: false, destination });
}

const load = (where: Where, feed: FeedId, path: string, label = `import ${feed} ${where}`) =>
  importFeed({
    wh: wh[where],
    feed: resolveFeed(feed),
    path,
    log: phaseLogger(label),
    today: AS_OF,
    timeZone: 'Asia/Shanghai',
  });

beforeAll(async () => {
  const [s, c] = [await warehouseAt(singleUrl(), 'single'), await warehouseAt(clusterUrl(), 'cluster')];
  wh.single = s.wh;
  wh.cluster = c.wh;
  timings['migrate single'] = Math.round(s.migrateMs);
  timings['migrate cluster'] = Math.round(c.migrateMs);
  county = await generateDemoCounty({ dir, persons: 400, seed: 11, asOf: AS_OF });
  for (const id of FEED_IDS) {
    const path = county.files[id];
    if (!path) continue;
    for (const where of WHERE) {
      imports[where][id] = await timed(`import ${id} ${where}`, () => load(where, id, path));
    }
  }
  for (const rule of RULE_IDS) {
    for (const where of WHERE) {
      matched[where][rule] = await timed(`${rule} ${where}`, async () => {
        try {
          await runMatch({ wh: wh[where], config, log, asOf: AS_OF, rules: [rule] });
          return await findingsOf(wh[where], rule);
        } catch (err) {
          return err as Error;
        }
      });
    }
  }
});

afterAll(async () => {
  console.info(`cluster load test timings (ms): ${JSON.stringify(timings)}`);
  console.info(`cluster load test import phases (ms): ${JSON.stringify(phases)}`);
  await wh.single?.close();
  await wh.cluster?.close();
});

/** The ledger's row of a run: its status and counts. */
async function ledgerRow(w: Warehouse, runId: number) {
  return w.db
    .selectFrom('runs')
    .select([
      'status',
      'rows_read',
      'rows_loaded',
      'rows_new',
      'rows_changed',
      'rows_unchanged',
      'rows_ended',
      'rows_quarantined',
      'exact_duplicates',
      'conflicting_duplicates',
      'rows_skipped',
    ])
    .where('id', '=', runId)
    .executeTakeFirstOrThrow();
}

describe('the twelve feeds imported on the cluster', () => {
  for (const feed of FEED_IDS) {
    it(`${feed}: the same ledger counts and the same versions as on one server`, async () => {
      const [single, cluster] = [imports.single[feed], imports.cluster[feed]];
      expect(single?.status).toBe('succeeded');
      expect(cluster?.status).toBe('succeeded');
      expect(cluster?.counts).toEqual(single?.counts);
      expect(single!.counts.rows_new).toBeGreaterThan(0);
      expect(await ledgerRow(wh.cluster, cluster!.runId)).toEqual(await ledgerRow(wh.single, single!.runId));
      const versions = await versionsOf(wh.single, feed);
      expect(versions).toHaveLength(single!.counts.rows_new);
      expect(await versionsOf(wh.cluster, feed)).toEqual(versions);
    });
  }

  it('registers the same persons and households, and quarantines the same values', async () => {
    const registry = async (w: Warehouse) => ({
      persons: (await w.db.selectFrom('persons').select('id_number').orderBy('id_number').execute()).map(
        (p) => p.id_number,
      ),
      households: (
        await w.db.selectFrom('households').select('household_id').orderBy('household_id').execute()
      ).map((h) => h.household_id),
      quarantine: (
        await sql<{
          q: string;
        }>`SELECT concat_ws('|', feed, source, sheet, row_number, field, raw_value, problem) AS q
          FROM quarantine ORDER BY 1`.execute(w.db)
      ).rows.map((r) => r.q),
    });
    const single = await registry(wh.single);
    expect(single.persons.length).toBeGreaterThan(400);
    expect(single.households.length).toBeGreaterThan(50);
    expect(single.quarantine.length).toBeGreaterThan(0);
    expect(await registry(wh.cluster)).toEqual(single);
  });

  it('keeps no staging table of a finished load, on the coordinator or as a Citus table', async () => {
    for (const where of WHERE) {
      const r = await sql<{ name: string }>`SELECT c.relname AS name FROM pg_class c
        WHERE c.relnamespace = ${wh[where].schema}::regnamespace AND c.relname LIKE 'stg\\_%'`.execute(
        wh[where].db,
      );
      expect(r.rows).toEqual([]);
    }
  });
});

describe('the rules over the cluster’s own loads', () => {
  for (const rule of RULE_IDS) {
    it(`${rule}: the same findings as on one server`, () => {
      const single = matched.single[rule];
      const cluster = matched.cluster[rule];
      expect(single).not.toBeInstanceOf(Error);
      expect((single as string[]).length, `${rule} finds something in the demo county`).toBeGreaterThan(0);
      // A rule Citus refuses fails here with its message.
      if (cluster instanceof Error) throw cluster;
      expect(cluster).toEqual(single);
    });
  }
});

describe('after the first loads, on both servers', () => {
  it('the roster sent again is a no-op: the ledger says so and no version is written', async () => {
    const path = county.files.roster!;
    for (const where of WHERE) {
      const before = await versionsOf(wh[where], 'roster');
      const again = await timed(`roster again ${where}`, () => load(where, 'roster', path));
      expect(again.status).toBe('noop');
      expect(await ledgerRow(wh[where], again.runId)).toMatchObject({ status: 'noop', rows_new: 0 });
      const run = await wh[where].db
        .selectFrom('runs')
        .select('details')
        .where('id', '=', again.runId)
        .executeTakeFirstOrThrow();
      expect(run.details).toMatchObject({ same_as_run: imports[where].roster!.runId });
      expect(await versionsOf(wh[where], 'roster')).toEqual(before);
    }
  });

  it('a 1 % change of insurance gives exactly the changed rows new versions, the same on both', async () => {
    const text = readFileSync(county.files.insurance!, 'utf8');
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const lines = text.split(eol);
    const header = lines[0]!.split(',');
    const [idCol, yearCol, schemeCol, placeCol] = ['身份证号', '参保年度', '险种', '参保地'].map((h) =>
      header.indexOf(h),
    ) as [number, number, number, number];
    expect(Math.min(idCol, yearCol, schemeCol, placeCol)).toBeGreaterThanOrEqual(0);
    // Rows loaded as a current version, whose key no other row of the file repeats: a change of one is one change.
    const current = new Set(
      (
        await sql<{ k: string }>`SELECT id_number || '|' || year AS k FROM insurance
          WHERE valid_to IS NULL`.execute(wh.single.db)
      ).rows.map((r) => r.k),
    );
    const keyOf = (cells: string[]) => `${cells[idCol]}|${cells[yearCol]}|${cells[schemeCol]}`;
    const seen = new Map<string, number>();
    for (const l of lines.slice(1)) {
      const k = keyOf(l.split(','));
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    const candidates = lines
      .map((l, i) => ({ cells: l.split(','), i }))
      .filter(({ cells, i }) => i > 0 && seen.get(keyOf(cells)) === 1)
      .filter(({ cells }) => current.has(`${cells[idCol]}|${cells[yearCol]}`));
    expect(candidates.length).toBeGreaterThan(500);
    // Every hundredth of them, its 参保地 changed: a value outside the key, so a new version of the same record.
    const out = [...lines];
    const changed: string[] = [];
    for (const [k, { cells, i }] of candidates.entries()) {
      if (k % 100 !== 7) continue;
      cells[placeCol] = `${cells[placeCol]}（迁入）`;
      out[i] = cells.join(',');
      changed.push(`${cells[idCol]}|${cells[yearCol]}|${cells[placeCol]}`);
    }
    changed.sort();
    expect(changed.length).toBeGreaterThanOrEqual(5);
    const path = join(dir, 'insurance-参保登记-changed.csv');
    writeFileSync(path, out.join(eol));
    const counts = {} as Record<Where, ImportSummary['counts']>;
    const recognized = {} as Record<Where, number>;
    for (const where of WHERE) {
      const w = wh[where];
      // The recognition cache set aside: the load reads the current versions' hashes from the feed table itself
      // (on the cluster from its shards, without the single server's block ranges: recognize.ts).
      await w.db
        .updateTable('feed_state')
        .set({ cache_generation: null })
        .where('feed', '=', 'insurance')
        .execute();
      const label = `insurance 1% ${where}`;
      const s = await timed(label, () => load(where, 'insurance', path, label));
      // The unchanged rows recognised by their hashes before staging (those linked by name are staged again).
      expect(s.recognized).toBeGreaterThan(candidates.length - changed.length - 20);
      recognized[where] = s.recognized ?? 0;
      expect(s.status).toBe('succeeded');
      counts[where] = s.counts;
      expect(s.counts).toMatchObject({ rows_new: 0, rows_changed: changed.length, rows_ended: 0 });
      const written = await sql<{ k: string }>`SELECT id_number || '|' || year || '|' || place AS k
        FROM insurance WHERE run_id = ${s.runId} AND valid_to IS NULL ORDER BY 1`.execute(w.db);
      expect(written.rows.map((r) => r.k)).toEqual(changed);
      const ended = await sql<{ n: number }>`SELECT count(*)::int AS n FROM insurance
        WHERE ended_run_id = ${s.runId}`.execute(w.db);
      expect(ended.rows[0]!.n).toBe(changed.length);
    }
    expect(counts.cluster).toEqual(counts.single);
    expect(recognized.cluster).toBe(recognized.single);
    expect(await versionsOf(wh.cluster, 'insurance')).toEqual(await versionsOf(wh.single, 'insurance'));
  });

  it('a late file takes its place in the history before the loads, the same on both', async () => {
    // Insurance as it stood on 2026-10-01, sent after the loads of 2026-11-24: every tenth row left out.
    const text = readFileSync(county.files.insurance!, 'utf8');
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const lines = text.split(eol);
    const kept = lines.filter((_, i) => i === 0 || i % 10 !== 3);
    const path = join(dir, 'insurance-参保登记-2026-10.csv');
    writeFileSync(path, kept.join(eol));
    const late = {} as Record<Where, ImportSummary>;
    for (const where of WHERE) {
      late[where] = await timed(`insurance late ${where}`, () =>
        importFeed({
          wh: wh[where],
          feed: resolveFeed('insurance'),
          path,
          log,
          today: AS_OF,
          timeZone: 'Asia/Shanghai',
          dataDate: { date: '2026-10-01', from: 'flag' },
        }),
      );
      expect(late[where].status).toBe('succeeded');
      // Nothing was valid on 2026-10-01 (the loads describe 2026-11-24): its rows are that window's versions.
      const window = await sql<{ n: number; open: number }>`SELECT count(*)::int AS n,
          count(*) FILTER (WHERE valid_to IS NULL OR data_to IS DISTINCT FROM '2026-11-24'::date)::int AS open
        FROM insurance WHERE run_id = ${late[where].runId} AND data_from = '2026-10-01'::date`.execute(
        wh[where].db,
      );
      expect(window.rows[0]).toEqual({ n: late[where].counts.rows_new, open: 0 });
      expect(late[where].counts.rows_new).toBeGreaterThan(500);
    }
    expect(late.cluster.counts).toEqual(late.single.counts);
    expect(await versionsOf(wh.cluster, 'insurance')).toEqual(await versionsOf(wh.single, 'insurance'));
  });

  it("a department's answered list moves the same findings to the same states on both", async () => {
    // The answers by 规则编号 + 身份证号 (the finding ids of two servers need not agree): three of 教育局's items.
    const items = (
      await wh.single.db
        .selectFrom('findings')
        .select(['rule_id', 'id_number'])
        .where('department', '=', '教育局')
        .where('state', '<>', 'closed')
        .where('id_number', 'is not', null)
        .orderBy('rule_id')
        .orderBy('id_number')
        .execute()
    ).slice(0, 3);
    expect(items).toHaveLength(3);
    const wb = new ExcelJS.Workbook();
    const own = wb.addWorksheet('我局核实情况');
    own.addRow(['规则编号', '身份证号', '核实结果', '说明/原因', '整改日期']);
    const answers: [string, string | null, string | null][] = [
      ['已整改', null, '2026-11-20'],
      ['核实不属实', '外地就读', null],
      ['整改中', '正在联系家长', null],
    ];
    items.forEach((f, i) => {
      own.addRow([f.rule_id, f.id_number, ...answers[i]!]);
    });
    const path = join(dir, '教育局-answers.xlsx');
    await wb.xlsx.writeFile(path);
    const outcomes = {} as Record<Where, FeedbackOutcome>;
    for (const where of WHERE) {
      const w = wh[where];
      await timed(`lists export ${where}`, () =>
        exportLists({ wh: w, outDir: join(dir, where), asOf: AS_OF, log, department: '教育局' }),
      );
      outcomes[where] = await timed(`feedback ${where}`, () =>
        importFeedback({
          wh: w,
          file: path,
          department: '教育局',
          asOf: AS_OF,
          outDir: join(dir, where),
          log,
        }),
      );
    }
    expect(outcomes.single).toMatchObject({ answered: 3, applied: 3, errors: [] });
    expect({ ...outcomes.cluster, errorFile: null }).toEqual({ ...outcomes.single, errorFile: null });
    const states = async (w: Warehouse) =>
      (
        await sql<{
          row: string;
        }>`SELECT concat_ws('|', rule_id, subject_key, state, feedback, feedback_reason,
            rectified_on::text) AS row FROM findings ORDER BY rule_id, subject_key`.execute(w.db)
      ).rows.map((r) => r.row);
    const single = await states(wh.single);
    expect(single.filter((r) => r.includes('|feedback|'))).toHaveLength(3);
    expect(await states(wh.cluster)).toEqual(single);
    for (const rule of RULE_IDS) {
      if (matched.cluster[rule] instanceof Error) continue; // reported by its own test above
      expect(await findingsOf(wh.cluster, rule), rule).toEqual(await findingsOf(wh.single, rule));
    }
  });

  it('a settlement re-sent under another person’s ID is one changed record on both: its old version ends', async () => {
    // settlement_id, the key, lacks the distribution column id_number: on the cluster the new ID's row is on another
    // shard than the version it replaces, which the load must still close (version-match.ts movedVersions).
    const text = readFileSync(county.files.settlements!, 'utf8');
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const lines = text.split(eol);
    // The first three columns are plain cells (money columns further right are quoted, with commas).
    expect(lines[0]!.split(',').slice(0, 3)).toEqual(['结算流水号', '姓名', '公民身份号码']);
    const cells = (l: string) => l.split(',').slice(0, 3) as [string, string, string];
    // The largest settlement of a person R04 reports, moved to a person of the file R04 does not report.
    const reported = new Set(
      (
        await wh.single.db
          .selectFrom('findings')
          .select('id_number')
          .where('rule_id', '=', 'R04')
          .where('state', '<>', 'closed')
          .execute()
      ).map((f) => f.id_number),
    );
    const moved = (
      await sql<{ settlement_id: string; id_number: string }>`SELECT settlement_id, id_number FROM settlements
        WHERE valid_to IS NULL AND id_number IN (${sql.join([...reported])})
        ORDER BY out_of_pocket DESC, settlement_id LIMIT 1`.execute(wh.single.db)
    ).rows[0]!;
    const at = lines.findIndex((l) => cells(l)[0] === moved.settlement_id);
    expect(cells(lines[at]!)[2]).toBe(moved.id_number);
    const [, name, id] = cells(
      lines.find((l, i) => {
        const [, , other] = cells(l);
        return i > 0 && /^\d{17}[\dX]$/.test(other) && other !== moved.id_number && !reported.has(other);
      })!,
    );
    const out = [...lines];
    out[at] = [moved.settlement_id, name, id, ...lines[at]!.split(',').slice(3)].join(',');
    const path = join(dir, 'settlements-医疗结算-corrected.csv');
    writeFileSync(path, out.join(eol));
    const before = await findingsOf(wh.single, 'R04');
    const runs = {} as Record<Where, ImportSummary>;
    const r04 = {} as Record<Where, string[]>;
    for (const where of WHERE) {
      const w = wh[where];
      runs[where] = await timed(`settlements moved ${where}`, () =>
        load(where, 'settlements', path, `settlements moved ${where}`),
      );
      expect(runs[where].status).toBe('succeeded');
      expect(runs[where].counts).toMatchObject({ rows_new: 0, rows_changed: 1, rows_ended: 0 });
      const versions = await sql<{ id_number: string; current: boolean; ended: boolean; written: boolean }>`
        SELECT id_number, valid_to IS NULL AS current, ended_run_id IS NOT DISTINCT FROM ${runs[where].runId} AS ended,
               run_id = ${runs[where].runId} AS written
        FROM settlements WHERE settlement_id = ${moved.settlement_id} ORDER BY valid_from`.execute(w.db);
      expect(versions.rows).toEqual([
        { id_number: moved.id_number, current: false, ended: true, written: false },
        { id_number: id, current: true, ended: false, written: true },
      ]);
      await timed(`R04 moved ${where}`, () => runMatch({ wh: w, config, log, asOf: AS_OF, rules: ['R04'] }));
      r04[where] = await findingsOf(w, 'R04');
    }
    expect(await ledgerRow(wh.cluster, runs.cluster.runId)).toEqual(
      await ledgerRow(wh.single, runs.single.runId),
    );
    expect(await versionsOf(wh.cluster, 'settlements')).toEqual(await versionsOf(wh.single, 'settlements'));
    // The move shows in R04 (its costs counted for the new person, no longer for the old), the same on both.
    expect(r04.single).not.toEqual(before);
    expect(r04.cluster).toEqual(r04.single);
  });

  it('the moved settlements are closed on the workers: the staged keys broadcast, no repartition, no feed pulled', async () => {
    // Staging as a load of one re-sent settlement makes it (normalized staging on the coordinator, its co-located
    // copy), and the plans of the statements that look for its key under other persons.
    const w = wh.cluster;
    const feed = resolveFeed('settlements');
    const norm = 'stg_probe_moved';
    const one = await sql<{ settlement_id: string }>`SELECT settlement_id FROM settlements
      WHERE valid_to IS NULL ORDER BY settlement_id LIMIT 1`.execute(w.db);
    await sql`CREATE UNLOGGED TABLE ${sql.id(norm)} AS SELECT settlement_id, '110101199003070011'::text AS id_number,
        NULL::text AS skip, TRUE AS ok, 1 AS rn
      FROM settlements WHERE settlement_id = ${one.rows[0]!.settlement_id} AND valid_to IS NULL`.execute(
      w.db,
    );
    try {
      const staging = await distributeStaging(w.db, feed, norm);
      expect(staging).toMatchObject({ distributed: true, personOutsideKey: 'id_number' });
      const moving = movedVersions(feed, staging)!;
      const plans: Record<string, string[]> = {};
      for (const [label, statement] of [
        ['count', sql`SELECT count(*)::int FROM settlements f WHERE f.valid_to IS NULL AND ${moving}`],
        [
          'close',
          sql`UPDATE settlements f SET valid_to = '2026-11-24T00:00:00Z'::timestamptz WHERE f.valid_to IS NULL AND ${moving}`,
        ],
      ] as const) {
        const plan = await sql<{ 'QUERY PLAN': string }>`EXPLAIN ${statement}`.execute(w.db);
        plans[label] = plan.rows.map((r) => r['QUERY PLAN']);
      }
      console.info(`moved settlements' plans on the cluster:\n${JSON.stringify(plans, null, 1)}`);
      for (const lines of Object.values(plans)) {
        expect(planProblems(lines, FEED_IDS)).toEqual([]);
        // The staged keys: a subplan of the coordinator's staging, its result sent to the workers.
        expect(lines.some((l) => /Distributed Subplan/.test(l))).toBe(true);
        expect(lines.some((l) => new RegExp(`Seq Scan on ${norm}\\b`).test(l))).toBe(true);
        // The shard tasks: the feed's shards and the co-located copy's, joined on the workers.
        expect(lines.some((l) => /Task Count: [1-9]/.test(l))).toBe(true);
        expect(lines.some((l) => new RegExp(`${norm}_dist_\\d+`).test(l))).toBe(true);
      }
    } finally {
      await sql`DROP TABLE IF EXISTS ${sql.id(`${norm}_dist`)}, ${sql.id(norm)}`.execute(w.db);
    }
  });
});
