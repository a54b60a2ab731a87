/**
 * `npm run bench -- cluster [--residents N] [--persons N]` — the same county on a Citus cluster and on one server,
 * in the same run (issue 26): the demo county of N residents (default 1,000,000; focus persons default a quarter)
 * generated once, its twelve files imported into each warehouse one command each, then the whole catalog matched
 * in each. Prints per feed the run's seconds (ledger) and rows/s on both and their ratio, per rule the engine's
 * seconds on both, and whether both found as many findings. The figures docs/scaling.md's sizing model is built
 * from. Measures; never asserts.
 *
 * One server: BENCH_DATABASE_URL / TEST_DATABASE_URL / DATABASE_URL, else an embedded server. The cluster:
 * BENCH_CLUSTER_URL (a Citus coordinator with its workers registered), else a local cluster of a coordinator and
 * two workers started for the run (test/cluster/citus.ts) on BENCH_CLUSTER_PORT (default 56800) and stopped after.
 * On one machine the cluster's three servers share its cores: the ratio measures Citus's own cost, not scale-out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { RULE_IDS } from '../pipelines/rules/index.ts';
import { createDb, createPool, type Warehouse } from '../src/warehouse/connect.ts';
import { dropWarehouse } from '../src/warehouse/drop-warehouse.ts';
import { localCluster } from '../test/cluster/citus.ts';
import { warnIfStale } from './support/command.ts';
import { BENCH_AS_OF, benchCounty, countyCommand, importCounty } from './support/county.ts';
import { benchServer } from './support/server.ts';

const arg = (args: string[], name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

interface Measured {
  /** Per feed: rows read and the run's seconds from the ledger. */
  feeds: Map<string, { rows: number; s: number }>;
  /** Per rule: the engine's seconds from the ledger and the findings it made (first run: all of them new). */
  rules: Map<string, { s: number; findings: number }>;
  importS: number;
  matchS: number;
}

async function measure(
  db: Warehouse['db'],
  cli: ReturnType<typeof countyCommand>['cli'],
  files: Parameters<typeof importCounty>[0]['files'],
  label: string,
): Promise<Measured> {
  const imports = importCounty({ files, cli }, (i) =>
    console.log(`  ${label} import ${i.feed.padEnd(14)} ${i.s.toFixed(1).padStart(7)} s`),
  );
  const match = cli('match', '--as-of', BENCH_AS_OF);
  console.log(`  ${label} match ${match.s.toFixed(1).padStart(7)} s`);
  const feeds = await sql<{ feed: string; rows: number; s: number }>`
    SELECT feed, rows_read::int AS rows, extract(epoch FROM finished_at - started_at)::float8 AS s
    FROM runs WHERE kind = 'import'`.execute(db);
  const rules = await sql<{ rule: string; s: number; findings: number }>`
    SELECT r.source AS rule, extract(epoch FROM r.finished_at - r.started_at)::float8 AS s,
           (SELECT count(*)::int FROM findings f WHERE f.rule_id = r.source ) AS findings
    FROM runs r WHERE r.kind = 'match'`.execute(db);
  return {
    feeds: new Map(feeds.rows.map((r) => [r.feed, r])),
    rules: new Map(rules.rows.map((r) => [r.rule, r])),
    importS: imports.reduce((s, i) => s + i.s, 0),
    matchS: match.s,
  };
}

export async function main(args: string[]): Promise<void> {
  warnIfStale();
  const residents = arg(args, '--residents', 1_000_000);
  const persons = arg(args, '--persons', Math.round(residents / 4));
  const dir = mkdtempSync(join(tmpdir(), 'ruralhub-bench-cluster-'));
  const single = await benchServer(dir);
  const cluster = process.env.BENCH_CLUSTER_URL
    ? { url: process.env.BENCH_CLUSTER_URL, stop: () => undefined }
    : await (async () => {
        // Outside the run's private folder: the servers run as the postgres user, which must reach their data.
        const port = Number(process.env.BENCH_CLUSTER_PORT ?? 56800);
        return localCluster({ port, dir: join(tmpdir(), `ruralhub-bench-cluster-${port}`), log: 'ignore' });
      })();
  const schema = `bench_cluster_${process.pid}`;
  const singleDb = createDb(createPool(single.url, schema));
  const clusterDb = createDb(createPool(cluster.url, schema));
  try {
    const county = await benchCounty({
      dir,
      url: single.url,
      schema,
      persons,
      residents: residents - persons,
    });
    console.log(
      `generated ${persons} focus persons among ${residents} residents in ${county.generatedS.toFixed(0)} s`,
    );
    const workers = await sql<{ n: number; shards: number }>`
      SELECT (SELECT count(*)::int FROM pg_dist_node WHERE noderole = 'primary' AND groupid > 0) AS n,
             current_setting('citus.shard_count')::int AS shards`.execute(clusterDb);
    const { n, shards } = workers.rows[0] ?? { n: 0, shards: 0 };
    console.log(`cluster: ${cluster.url}, ${n} workers, ${shards} shards a distributed table`);

    const one = await measure(singleDb, county.cli, county.files, 'one server');
    const citus = await measure(
      clusterDb,
      countyCommand({ dir, url: cluster.url, schema }).cli,
      county.files,
      'cluster',
    );

    const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
    console.log('\nfeed                rows   one s  cluster s  cluster/one   rows/s one  rows/s cluster');
    for (const { feed } of county.files) {
      const a = one.feeds.get(feed);
      const b = citus.feeds.get(feed);
      if (!a || !b) continue;
      console.log(
        [
          feed.padEnd(14),
          String(a.rows).padStart(9),
          a.s.toFixed(1).padStart(7),
          b.s.toFixed(1).padStart(10),
          ratio(b.s, a.s).padStart(12),
          (a.rows / a.s).toFixed(0).padStart(12),
          (b.rows / b.s).toFixed(0).padStart(15),
        ].join(''),
      );
    }
    const sum = (m: Measured['feeds']) => [...m.values()].reduce((s, f) => s + f.s, 0);
    const rows = [...one.feeds.values()].reduce((s, f) => s + f.rows, 0);
    console.log(
      `imports (runs): one server ${sum(one.feeds).toFixed(0)} s, cluster ${sum(citus.feeds).toFixed(0)} s = ${ratio(sum(citus.feeds), sum(one.feeds))}× for ${rows} rows; with each command's start-up ${one.importS.toFixed(0)} s / ${citus.importS.toFixed(0)} s`,
    );

    console.log('\nrule   one s  cluster s  cluster/one   findings one  findings cluster');
    for (const rule of RULE_IDS) {
      const a = one.rules.get(rule);
      const b = citus.rules.get(rule);
      if (!a || !b) continue;
      console.log(
        [
          rule.padEnd(5),
          a.s.toFixed(2).padStart(7),
          b.s.toFixed(2).padStart(10),
          ratio(b.s, a.s).padStart(12),
          String(a.findings).padStart(15),
          `${String(b.findings).padStart(17)}${a.findings === b.findings ? '' : '  DIFFER'}`,
        ].join(''),
      );
    }
    console.log(
      `match (whole catalog, command wall): one server ${one.matchS.toFixed(1)} s, cluster ${citus.matchS.toFixed(1)} s = ${ratio(citus.matchS, one.matchS)}×`,
    );
    await dropWarehouse(singleDb, schema);
    await dropWarehouse(clusterDb, schema);
  } finally {
    await singleDb.destroy();
    await clusterDb.destroy();
    cluster.stop();
    await single.stop?.();
    rmSync(dir, { recursive: true, force: true });
  }
}
