/**
 * `npm run bench -- match [--persons N] [--residents N]` — the rule suite against hand-run SQL, same machine,
 * same run, on a county-scale warehouse (default 250k focus persons among 1M residents, all twelve feeds):
 *   (a)  `ruralhub match` for the whole catalog, finding transitions included (first run: every item is new)
 *   (a') `ruralhub match --force` again with no data change (every item found again: transitions only update)
 *   (a") `ruralhub match` with no data change (each rule sees unchanged inputs: recorded no-ops)
 *   (b)  each rule's bare SELECT, compiled from the same module, run directly through psql
 *   (c)  `ruralhub match --dry-run --from … --to …`: a dry-run backfill of the catalog at 12 monthly dates
 *   (d)  each rule's bare SELECT reading the versions valid at the date against the same with current versions
 * Prints per-rule engine time (from the run ledger) beside the bare SELECT, the ratios, the backfill's total and
 * per-date seconds, and EXPLAIN ANALYZE of the slowest rule. Measures; never asserts. Uses TEST_DATABASE_URL /
 * DATABASE_URL when set, else embedded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { RULE_IDS, RULES } from '../pipelines/rules/index.ts';
import { createDb, createPool, SESSION_PLANNER_OPTIONS } from '../src/warehouse/connect.ts';
import { dropWarehouse } from '../src/warehouse/drop-warehouse.ts';
import { timed, warnIfStale } from './support/command.ts';
import { BENCH_AS_OF, benchCounty, importCounty } from './support/county.ts';
import { benchServer } from './support/server.ts';

const AS_OF = BENCH_AS_OF;
/**
 * (c)'s 12 monthly dates: the 1st of each month after the loads' date, not before it — once rules read the
 * versions valid at their date (issue 21), dates before the data's would find nothing and measure nothing. The
 * range crosses a year, so R02 checks the 2027 insurance year there: its dry runs carry many findings, as a
 * real backfill over a year would.
 */
const BACKFILL_FROM = '2026-12-01';
const BACKFILL_TO = '2027-11-01';

const arg = (args: string[], name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

/** A compiled query with its parameters written in as literals, for psql. */
function inline(text: string, parameters: readonly unknown[]): string {
  let out = text;
  for (let i = parameters.length; i >= 1; i--) {
    const v = parameters[i - 1];
    const lit =
      typeof v === 'number' || typeof v === 'boolean'
        ? String(v)
        : v === null
          ? 'NULL'
          : `'${String(v).replace(/'/g, "''")}'`;
    out = out.replaceAll(`$${i}`, lit);
  }
  return out;
}

export async function main(args: string[]): Promise<void> {
  warnIfStale();
  const persons = arg(args, '--persons', 250_000);
  const residents = arg(args, '--residents', 1_000_000 - persons);
  const dir = mkdtempSync(join(tmpdir(), 'ruralhub-bench-match-'));
  const { url, stop } = await benchServer(dir);
  const schema = `bench_match_${process.pid}`;
  const pool = createPool(url, schema);
  const db = createDb(pool);
  try {
    const county = await benchCounty({ dir, url, schema, persons, residents });
    console.log(
      `generated ${persons} focus persons + ${residents} other residents in ${county.generatedS.toFixed(0)} s`,
    );
    const { cli, env } = county;
    // psql's sessions get the engine's planner settings (no JIT), so a bare SELECT measures what the engine runs.
    const psqlEnv = { ...env, PGOPTIONS: SESSION_PLANNER_OPTIONS.join(' ') };
    const imports = importCounty(county, (i) =>
      console.log(
        `  import ${i.feed.padEnd(14)} ${(i.bytes / 2 ** 20).toFixed(0).padStart(4)} MiB  ${i.s.toFixed(1)} s`,
      ),
    );
    console.log(`imported all feeds in ${imports.reduce((s, i) => s + i.s, 0).toFixed(0)} s`);
    const psql = (q: string, extra: string[] = []) =>
      timed('psql', [url!, '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...extra, '-c', q]);
    psql(`ANALYZE`);
    const sizes = await sql<{ feed: string; n: number }>`
      SELECT feed, current_rows::int AS n FROM feed_state ORDER BY feed`.execute(db);
    console.log(`current rows: ${sizes.rows.map((r) => `${r.feed} ${r.n}`).join(', ')}`);

    const lastRun = async () =>
      (await sql<{ id: number }>`SELECT coalesce(max(id), 0)::int AS id FROM runs`.execute(db)).rows[0]!.id;
    const perRule = async (after: number) =>
      new Map(
        (
          await sql<{ rule: string; ms: number }>`
            SELECT source AS rule, (extract(epoch FROM finished_at - started_at) * 1000)::float8 AS ms
            FROM runs WHERE kind = 'match' AND id > ${after}`.execute(db)
        ).rows.map((r) => [r.rule, r.ms]),
      );

    let mark = await lastRun();
    const a = cli('match', '--as-of', AS_OF);
    const engine = await perRule(mark);
    mark = await lastRun();
    const aForced = cli('match', '--as-of', AS_OF, '--force');
    const engineForced = await perRule(mark);
    const aNoop = cli('match', '--as-of', AS_OF);
    // (c) counts per date and rule as JSON; each row's ms is that rule's dry run at that date.
    const c = cli(
      'match',
      '--dry-run',
      '--from',
      BACKFILL_FROM,
      '--to',
      BACKFILL_TO,
      '--every',
      'month',
      '--format',
      'json',
    );
    const backfillRows = JSON.parse(c.stdout) as { as_of: string; ms: number; open: number | null }[];

    // (b) the same queries, bare, through psql; \timing reports the server round trip of the statement.
    const bareMs = (text: string): number => {
      const r = timed(
        'psql',
        [
          url,
          '-X',
          '-q',
          '-v',
          'ON_ERROR_STOP=1',
          '-c',
          `SET search_path TO ${schema}, public`,
          '-c',
          '\\timing on',
          '-c',
          '\\o /dev/null',
          '-c',
          text,
        ],
        psqlEnv,
      );
      return Number(/Time: ([\d.]+) ms/.exec(r.stdout)?.[1] ?? Number.NaN);
    };
    const bare = new Map<string, number>();
    const texts = new Map<string, string>();
    for (const id of RULE_IDS) {
      const bound = RULES[id].bind({});
      if (!bound.ok) throw new Error(`${id}: its default parameters are refused`);
      const c = sql`${bound.rule.findings(db, AS_OF)}`.compile(db);
      const text = inline(c.sql, c.parameters);
      texts.set(id, text);
      bare.set(id, bareMs(text));
    }
    // (d) what reading the versions valid at the date costs (issue 21): each rule's bare SELECT as compiled, and the
    // same text with every as-of predicate written as the current-version one it replaced (valid_to IS NULL),
    // interleaved, best of 3 each.
    const asOfPredicate =
      /\("(\w+)"\."data_from" <= '[0-9-]+'::date AND \("\1"\."data_to" IS NULL OR "\1"\."data_to" > '[0-9-]+'::date\)\)/g;
    const predicateCost = new Map<string, { asOf: number; current: number }>();
    for (const [id, text] of texts) {
      const current = text.replace(asOfPredicate, '"$1"."valid_to" IS NULL');
      if (current === text || /"data_(from|to)"/.test(current))
        throw new Error(`${id}: its as-of predicates are not as pipelines/rules/as-of.ts writes them`);
      let best = { asOf: Number.POSITIVE_INFINITY, current: Number.POSITIVE_INFINITY };
      for (let i = 0; i < 3; i++)
        best = { asOf: Math.min(best.asOf, bareMs(text)), current: Math.min(best.current, bareMs(current)) };
      predicateCost.set(id, best);
    }

    const found = await sql<{ rule_id: string; n: number }>`
      SELECT rule_id, count(*)::int AS n FROM findings GROUP BY rule_id`.execute(db);
    const foundBy = new Map(found.rows.map((r) => [r.rule_id, r.n]));
    console.log("\nrule  found    (a) engine ms  (a') forced ms  (b) bare ms  (a)/(b)  (a')/(b)");
    let sumA = 0;
    let sumF = 0;
    let sumB = 0;
    for (const id of RULE_IDS) {
      const ea = engine.get(id) ?? Number.NaN;
      const ef = engineForced.get(id) ?? Number.NaN;
      const b = bare.get(id) ?? Number.NaN;
      sumA += ea;
      sumF += ef;
      sumB += b;
      console.log(
        `${id}  ${String(foundBy.get(id) ?? 0).padStart(6)}  ${ea.toFixed(0).padStart(13)}  ${ef.toFixed(0).padStart(15)}  ${b.toFixed(0).padStart(11)}  ${(ea / b).toFixed(2).padStart(7)}  ${(ef / b).toFixed(2).padStart(8)}`,
      );
    }
    console.log(
      `sum        ${sumA.toFixed(0).padStart(13)}  ${sumF.toFixed(0).padStart(15)}  ${sumB.toFixed(0).padStart(11)}  ${(sumA / sumB).toFixed(2).padStart(7)}  ${(sumF / sumB).toFixed(2).padStart(8)}`,
    );
    console.log(
      `\nwhole command: (a) ${a.s.toFixed(1)} s, (a') forced, no data change ${aForced.s.toFixed(1)} s, (a") no data change ${aNoop.s.toFixed(1)} s = ${(aNoop.s / a.s).toFixed(2)}× (a)`,
    );
    const perDate = new Map<string, { ms: number; open: number }>();
    for (const r of backfillRows) {
      const d = perDate.get(r.as_of) ?? { ms: 0, open: 0 };
      perDate.set(r.as_of, { ms: d.ms + r.ms, open: d.open + (r.open ?? 0) });
    }
    const sumC = [...perDate.values()].reduce((s, d) => s + d.ms, 0) / 1000;
    console.log(
      `(c) dry-run backfill, ${perDate.size} monthly dates ${BACKFILL_FROM} … ${BACKFILL_TO}: whole command ${c.s.toFixed(1)} s, dry runs ${sumC.toFixed(1)} s = ${(sumC / perDate.size).toFixed(2)} s a date (${(sumC / perDate.size / a.s).toFixed(2)}× (a))`,
    );
    for (const [date, d] of perDate) {
      console.log(
        `    ${date}  ${(d.ms / 1000).toFixed(2).padStart(7)} s  ${String(d.open).padStart(8)} open`,
      );
    }
    console.log(
      '\n(d) as of the date vs current versions, bare SELECT, best of 3:\nrule  as-of ms  current ms  ratio',
    );
    let sumAsOf = 0;
    let sumCurrent = 0;
    for (const [id, d] of predicateCost) {
      sumAsOf += d.asOf;
      sumCurrent += d.current;
      console.log(
        `${id}  ${d.asOf.toFixed(0).padStart(8)}  ${d.current.toFixed(0).padStart(10)}  ${(d.asOf / d.current).toFixed(2).padStart(5)}`,
      );
    }
    console.log(
      `sum  ${sumAsOf.toFixed(0).padStart(8)}  ${sumCurrent.toFixed(0).padStart(10)}  ${(sumAsOf / sumCurrent).toFixed(2).padStart(5)}`,
    );
    const slowest = [...bare.entries()].sort((x, y) => y[1] - x[1])[0]![0];
    const plan = timed(
      'psql',
      [
        url,
        '-X',
        '-q',
        '-c',
        `SET search_path TO ${schema}, public`,
        '-c',
        `EXPLAIN (ANALYZE, BUFFERS) ${texts.get(slowest)}`,
      ],
      psqlEnv,
    );
    // Lines are cut at 240 characters: the inlined name-key function carries OpenCC's whole character table.
    const shown = plan.stdout
      .split('\n')
      .map((l) => (l.length > 240 ? `${l.slice(0, 240)} …` : l))
      .join('\n');
    console.log(`\nEXPLAIN ANALYZE of the slowest rule, ${slowest}:\n${shown}`);
    await dropWarehouse(db, schema);
  } finally {
    await db.destroy();
    await stop?.();
    rmSync(dir, { recursive: true, force: true });
  }
}
