/**
 * The demo county on a Citus cluster against the same county on one server (issue 26): migrate places every table
 * as src/warehouse/distribution.ts declares, once; the thirteen rules, run on the cluster over exactly the single
 * server's loads, find the same findings rule by rule; and every rule's findings query runs on the workers — no
 * repartition, no feed shipped as it is to the coordinator (plan.ts).
 *
 * The loads are copied from the single server (support.ts copyLoads); the loader on a cluster is
 * loads.cluster.ts's. What the plans move, rule by rule (pipelines/rules): R01–R03, R07, R11 run shard against
 * shard and send their findings; the household rules (R04, R05, R08, R09, R12) group the roster by household with
 * aggregates each worker computes over its own members (common.ts focusHouseholds), so one row per household and
 * shard reaches the coordinator, and go back to the workers as an intermediate result; R06 sends the distinct heads
 * of the recipients not on the roster, and gets back the roster rows of those heads; R13 sends the IDs of the load
 * conflicts (a coordinator table) to the workers, and gets back their roster rows; R10's subplans are likewise
 * joins or aggregates on the workers.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { FEED_IDS, FEEDS } from '../../pipelines/feeds/index.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import { RULE_IDS, RULES, type RuleId } from '../../pipelines/rules/index.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { DEPARTMENTS, type Department } from '../../schemas/vocabulary.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { generateDemoCounty } from '../../src/demo/generate.ts';
import { readFindingLineage } from '../../src/findings/lineage.ts';
import { withDepartmentScope } from '../../src/http/scope.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { bindRule, runMatch } from '../../src/matching/run-match.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { placements } from '../../src/warehouse/distribution.ts';
import { migrate } from '../../src/warehouse/migrate.ts';
import { tempDir } from '../support/files.ts';
import { planProblems } from './plan.ts';
import { clusterUrl, copyLoads, findingsOf, singleUrl, stopwatch, warehouseAt } from './support.ts';

const AS_OF = '2026-11-24';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const feeds = Object.values(FEEDS) as FeedDefinition[];

/** The rules whose findings the cluster computes, and whose plans stay on the workers: all of them. */
const COMPARED: readonly RuleId[] = RULE_IDS;
const PUSHED_DOWN: readonly RuleId[] = RULE_IDS;

let single: Warehouse;
let cluster: Warehouse;
const { timings, timed } = stopwatch();

beforeAll(async () => {
  const s = await warehouseAt(singleUrl(), 'single');
  const c = await warehouseAt(clusterUrl(), 'cluster');
  single = s.wh;
  cluster = c.wh;
  timings['migrate single'] = Math.round(s.migrateMs);
  timings['migrate cluster'] = Math.round(c.migrateMs);
  const county = await generateDemoCounty({
    dir: tempDir('ruralhub-cluster-'),
    persons: 400,
    seed: 11,
    asOf: AS_OF,
  });
  for (const id of FEED_IDS) {
    const path = county.files[id];
    if (!path) continue;
    await timed(`import ${id} single`, () =>
      importFeed({ wh: single, feed: resolveFeed(id), path, log, today: AS_OF, timeZone: 'Asia/Shanghai' }),
    );
  }
  await timed('copy loads to cluster', () => copyLoads(single, cluster, FEED_IDS));
  for (const rule of COMPARED) {
    for (const [where, wh] of [
      ['single', single],
      ['cluster', cluster],
    ] as const) {
      await timed(`${rule} ${where}`, () => runMatch({ wh, config, log, asOf: AS_OF, rules: [rule] }));
    }
  }
});

afterAll(async () => {
  console.info(`cluster test timings (ms): ${JSON.stringify(timings)}`);
  await single?.close();
  await cluster?.close();
});

describe('migrate on a Citus coordinator', () => {
  it('places every table as distribution.ts declares: feeds on the person ID, co-located; regions copied', async () => {
    const r = await sql<{ name: string; type: string; column: string; group: number }>`
      SELECT c.relname AS name, ct.citus_table_type AS type, ct.distribution_column AS column,
             ct.colocation_id AS group
      FROM citus_tables ct JOIN pg_class c ON c.oid = ct.table_name
      WHERE c.relnamespace = ${cluster.schema}::regnamespace ORDER BY 1`.execute(cluster.db);
    const expected = [...placements(feeds)]
      .filter(([, p]) => p.kind !== 'coordinator')
      .map(([name, p]) => ({ name, type: p.kind, column: p.kind === 'distributed' ? p.column : '<none>' }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(r.rows.map(({ name, type, column }) => ({ name, type, column }))).toEqual(expected);
    const groups = new Set(r.rows.filter((t) => t.type === 'distributed').map((t) => t.group));
    expect(groups.size).toBe(1);
  });

  it('keeps the ledger, locks, audit and case files on the coordinator, as plain tables', async () => {
    const coordinator = [...placements(feeds)].filter(([, p]) => p.kind === 'coordinator').map(([n]) => n);
    const r = await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_class c
      WHERE c.relnamespace = ${cluster.schema}::regnamespace AND c.relkind = 'r'
        AND NOT EXISTS (SELECT 1 FROM pg_dist_partition d WHERE d.logicalrelid = c.oid)
      ORDER BY 1`.execute(cluster.db);
    expect(r.rows.map((t) => t.name)).toEqual(coordinator.sort());
  });

  it("keeps each feed table's person ID in its unique keys and its <feed>_written trigger, disabled", async () => {
    const r = await sql<{ name: string; pkey: string; current: string; trigger: string }>`
      SELECT c.relname AS name,
             (SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p') AS pkey,
             (SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
              WHERE i.indrelid = c.oid AND i.indexrelid::regclass::text LIKE '%_current') AS current,
             (SELECT t.tgenabled::text FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = c.relname || '_written') AS trigger
      FROM pg_class c WHERE c.relnamespace = ${cluster.schema}::regnamespace AND c.relname = ANY(${FEED_IDS}::text[])
      ORDER BY 1`.execute(cluster.db);
    expect(r.rows).toHaveLength(FEED_IDS.length);
    const settlements = r.rows.find((t) => t.name === 'settlements');
    expect(settlements?.pkey).toBe('PRIMARY KEY (version_id, id_number)');
    expect(settlements?.current).toMatch(/\(settlement_id, id_number\) WHERE \(valid_to IS NULL\)$/);
    expect(r.rows.find((t) => t.name === 'housing')?.pkey).toBe('PRIMARY KEY (version_id, head_id_number)');
    expect(new Set(r.rows.map((t) => t.trigger))).toEqual(new Set(['D']));
  });

  it('does nothing the second time', async () => {
    const again = await migrate(cluster.db, cluster.schema);
    expect(again).toMatchObject({ applied: [], feedTables: [], distributed: [] });
  });
});

describe('the rules on the cluster', () => {
  for (const rule of COMPARED) {
    it(`${rule}: the same findings as on one server`, async () => {
      const expected = await findingsOf(single, rule);
      expect(expected.length, `${rule} finds something in the demo county`).toBeGreaterThan(0);
      expect(await findingsOf(cluster, rule)).toEqual(expected);
    });
  }

  for (const rule of PUSHED_DOWN) {
    it(`${rule}: its findings query runs on the workers — no repartition, no feed pulled to the coordinator`, async () => {
      const bound = bindRule(RULES[rule], config);
      const plan = await sql<{ 'QUERY PLAN': string }>`EXPLAIN ${bound.findings(cluster.db, AS_OF)}`.execute(
        cluster.db,
      );
      const lines = plan.rows.map((r) => r['QUERY PLAN']);
      expect(lines.some((l) => l.includes('Custom Scan (Citus Adaptive)'))).toBe(true);
      expect(planProblems(lines, FEED_IDS)).toEqual([]);
    });
  }
});

describe('the reporting views on the cluster', () => {
  // Views on the coordinator over a distributed feed (focus_population: the roster) and a coordinator table.
  for (const view of ['focus_population', 'finding_counts'] as const) {
    it(`${view}: the same rows as on one server`, async () => {
      const rows = async (wh: Warehouse) =>
        (
          await sql<{
            row: string;
          }>`SELECT v::text AS row FROM ${sql.table(`${wh.schema}_reporting.${view}`)} v
            ORDER BY 1`.execute(wh.db)
        ).rows.map((r) => r.row);
      const expected = await rows(single);
      expect(expected.length).toBeGreaterThan(0);
      expect(await rows(cluster)).toEqual(expected);
    });
  }
});

describe("a department's scope on the cluster", () => {
  // Departments read through the API in a transaction scoped by row-level security (src/http/scope.ts): the case
  // files stay on the coordinator, so their policies hold there as on one server. The lineage (the bureau's) reads
  // the records behind each event from the feeds' versions, distributed. A rule's findings are inserted by one
  // set-based statement, in an order Citus does not keep: findings are compared by rule and subject, not by id.
  const visible = async (wh: Warehouse, department: Department) =>
    withDepartmentScope(wh, department, async (trx) => {
      const r = await sql<{ row: string }>`
        SELECT f.rule_id || ' ' || f.subject_key || ': ' || string_agg(e.to_state || '/' || e.reason, ', ' ORDER BY e.id) AS row
        FROM findings f JOIN finding_events e ON e.finding_id = f.id
        GROUP BY f.rule_id, f.subject_key ORDER BY 1`.execute(trx);
      return r.rows.map((x) => x.row);
    });

  it('shows each department its own findings and their events, as one server does', async () => {
    let seen = 0;
    for (const department of DEPARTMENTS) {
      const expected = await visible(single, department);
      expect(await visible(cluster, department), department).toEqual(expected);
      seen += expected.length;
    }
    const all = await sql<{ n: number }>`SELECT count(*)::int AS n FROM findings`.execute(cluster.db);
    expect(seen).toBe(all.rows[0]?.n);
  });

  it("hides another department's finding", async () => {
    const first = await sql<{ id: number; department: Department }>`
      SELECT id, department FROM findings ORDER BY id LIMIT 1`.execute(cluster.db);
    const f = first.rows[0]!;
    const stranger = DEPARTMENTS.find((d) => d !== f.department)!;
    const sees = (d: Department) =>
      withDepartmentScope(cluster, d, (trx) =>
        trx.selectFrom('findings').select('id').where('id', '=', f.id).execute(),
      );
    expect(await sees(stranger)).toEqual([]);
    expect(await sees(f.department)).toEqual([{ id: f.id }]);
  });

  it("gives the bureau every finding's lineage, the same records as one server", async () => {
    /** A finding's lineage without the ids its server gave it, its records in one order. */
    const lineageOf = async (wh: Warehouse, rule: string, subject: string) => {
      const f = await wh.db
        .selectFrom('findings')
        .select('id')
        .where('rule_id', '=', rule)
        .where('subject_key', '=', subject)
        .executeTakeFirstOrThrow();
      const l = await readFindingLineage(wh.db, f.id);
      if (!l) return null;
      const { id: _finding, ...finding } = l.finding;
      const events = l.events.map(({ id: _event, records, ...e }) => ({
        ...e,
        records: [...records].sort((a, b) =>
          `${a.feed} ${a.version_id}`.localeCompare(`${b.feed} ${b.version_id}`),
        ),
      }));
      return { finding, events };
    };
    const subjects = await sql<{ rule: string; subject: string }>`
      SELECT rule_id AS rule, subject_key AS subject FROM findings ORDER BY 1, 2`.execute(single.db);
    expect(subjects.rows.length).toBeGreaterThan(0);
    let records = 0;
    for (const { rule, subject } of subjects.rows) {
      const expected = await lineageOf(single, rule, subject);
      expect(await lineageOf(cluster, rule, subject), `${rule} ${subject}`).toEqual(expected);
      records += expected?.events.reduce((n, e) => n + e.records.length, 0) ?? 0;
    }
    expect(records).toBeGreaterThan(0);
  });
});

describe('the plan check', () => {
  it('names a subplan shipping a feed shard as it is, and not one that aggregates on the workers first', () => {
    const pulled = [
      'Custom Scan (Citus Adaptive)',
      '  ->  Distributed Subplan 63_1',
      '        ->  GroupAggregate',
      '              ->  Custom Scan (Citus Adaptive)',
      '                    ->  Task',
      '                          Node: host=127.0.0.1 port=56601 dbname=postgres',
      '                          ->  Seq Scan on roster_103196 r',
      '  Task Count: 32',
      '  ->  Task',
      '        Node: host=127.0.0.1 port=56601 dbname=postgres',
      '        ->  Seq Scan on roster_103196 p',
    ];
    expect(planProblems(pulled, FEED_IDS)).toEqual([
      'subplan 63_1 pulls roster to the coordinator: ->  Seq Scan on roster_103196 r',
    ]);
    const aggregated = pulled.map((l) => l.replace('->  Seq Scan on roster_103196 r', '->  HashAggregate'));
    expect(planProblems(aggregated, FEED_IDS)).toEqual([]);
    expect(planProblems(['  ->  MapMergeJob'], FEED_IDS)).toEqual(['repartition: ->  MapMergeJob']);
  });

  it('looks through nodes that pass rows on unchanged, and at what the coordinator combines outside subplans', () => {
    // a subplan shipping two feeds' shards through an Append and a Subquery Scan (a UNION ALL of feeds)
    const unioned = [
      'Custom Scan (Citus Adaptive)',
      '  ->  Distributed Subplan 7_2',
      '        ->  Custom Scan (Citus Adaptive)',
      '              Task Count: 32',
      '              ->  Task',
      '                    Node: host=127.0.0.1 port=56601 dbname=postgres',
      '                    ->  Subquery Scan on s',
      '                          ->  Append',
      '                                ->  Seq Scan on housing_102201 housing',
      '                                      Filter: (head_name IS NOT NULL)',
      '                                ->  Seq Scan on water_102233 water',
    ];
    expect(planProblems(unioned, FEED_IDS)).toEqual([
      'subplan 7_2 pulls housing to the coordinator: ->  Seq Scan on housing_102201 housing',
      'subplan 7_2 pulls water to the coordinator: ->  Seq Scan on water_102233 water',
    ]);
    // the coordinator grouping what the workers scanned (an aggregate Citus cannot split), outside any subplan
    const grouped = [
      'GroupAggregate',
      '  Group Key: remote_scan.household_id',
      '  ->  Sort',
      '        ->  Custom Scan (Citus Adaptive)',
      '              ->  Task',
      '                    Node: host=127.0.0.1 port=56601 dbname=postgres',
      '                    ->  Seq Scan on roster_102009 r',
    ];
    expect(planProblems(grouped, FEED_IDS)).toEqual([
      "the coordinator's GroupAggregate pulls roster to the coordinator: ->  Seq Scan on roster_102009 r",
    ]);
    // the findings themselves (a filtered scan with a correlated subplan, at the top), and a subplan whose task
    // aggregates a scan filtered by a correlated subplan: nothing shipped as it is
    const fine = [
      'Custom Scan (Citus Adaptive)',
      '  ->  Distributed Subplan 6_1',
      '        ->  HashAggregate',
      '              ->  Custom Scan (Citus Adaptive)',
      '                    ->  Task',
      '                          Node: host=127.0.0.1 port=56601 dbname=postgres',
      '                          ->  GroupAggregate',
      '                                ->  Seq Scan on roster_102009 p',
      '                                SubPlan 2',
      '                                  ->  Seq Scan on disability_102297 dz',
      '  ->  Task',
      '        Node: host=127.0.0.1 port=56601 dbname=postgres',
      '        ->  Seq Scan on roster_102009 p',
      '              Filter: (NOT (SubPlan 1))',
      '              SubPlan 1',
      '                ->  Seq Scan on deaths_102329 d',
    ];
    expect(planProblems(fine, FEED_IDS)).toEqual([]);
  });
});
