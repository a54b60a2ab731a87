/**
 * Retention (issue 27; PIPL Arts. 19, 47): personal information is deleted when the purpose no longer needs it.
 * Five categories, each planned (counted) and run by the same SQL predicates, so a dry run says exactly what a
 * run deletes; each runs in its own transaction with its audit row (counts only, never an ID number):
 *
 *   findings    closed findings whose closing and every event are older than the rule's retentionYears (or
 *               retention.findings_years): counted into retired_finding_months, then deleted with their events
 *               and lineage. The monthly report of any month stays what it was with `withRetired`.
 *   versions    feed versions ended (valid_to, transaction time) more than history_years ago, in every feed table,
 *               but those behind a finding that stays (its lineage's versions; its person's and household's roster
 *               rows): the monthly report places a past month's findings by them (doomedVersions). They go in
 *               the run that retires the finding. Lineage's copied columns keep its own rows readable either way.
 *   persons     persons no version names (in any ID column) after this run, none current or ended within
 *               lists_years, with no finding left and no operator's identity link: their ID number is removed from persons (the surrogate key stays), and
 *               the rows of load_conflicts naming them are deleted (the runs keep their counts).
 *   quarantine  raw values (raw_value, record) of quarantined rows of runs older than quarantine_days, except the
 *               current load of each feed (R13 reads it): emptied, the rows kept (the ledger's counts are in
 *               runs, and `rows_read = loaded + quarantined + duplicates` never reads quarantine).
 *   drop_files  files in the drop folders' processed/ whose bytes (SHA-256) a successful import read more than
 *               drop_files_days ago; runs keep the SHA-256.
 *
 * Order: findings before persons (a person whose last finding goes is purged in the same run, as planned).
 */
import { lstat, readdir, realpath, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import { RULES, type RuleRegistry } from '../../pipelines/rules/index.ts';
import type { Config } from '../../schemas/config.ts';
import { sha256File } from '../load/import-feed.ts';
import { writeAudit } from '../warehouse/audit.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { feedTablesIn } from '../warehouse/feed-table.ts';
import type { Database } from '../warehouse/schema.ts';
import { summarizeRetiredFindings } from './retired-findings.ts';

export const RETENTION_CATEGORIES = ['findings', 'versions', 'persons', 'quarantine', 'drop_files'] as const;
export type RetentionCategory = (typeof RETENTION_CATEGORIES)[number];

export interface CategoryOutcome {
  category: RetentionCategory;
  /** What is kept: "closed before …", "ended before …" (the cut-off, in words). */
  rule: string;
  /** Rows (or files) deleted or emptied; in a plan, those that would be. */
  count: number;
  /** The count split (by feed, by table); no values of the rows. */
  details: Record<string, number>;
}

export interface RetentionOutcome {
  today: string;
  dryRun: boolean;
  categories: CategoryOutcome[];
}

export interface RetentionParams {
  wh: Warehouse;
  config: Readonly<Config>;
  /** The run's day in the county's time zone; every cut-off counts back from it. */
  today: string;
  /** The rules whose retentionYears apply to their findings (default: the project's). */
  registry?: RuleRegistry;
  /** Who runs it, for the audit rows ('cli', 'scheduler'). */
  actor?: string;
}

const minus = (today: string, unit: 'years' | 'days', n: number) =>
  sql<string>`(${today}::date - make_interval(${sql.raw(unit)} => ${n}::int))::date`;
/** The start of a day in the county's time zone, for comparing with timestamptz columns. */
const startOf = (day: RawBuilder<string>, tz: string) => sql`(${day}::timestamp AT TIME ZONE ${tz})`;

interface Ctx extends RetentionParams {
  feedTables: string[];
}

/** Each rule's years as a relation (rule_id, years): retention.findings_years, else the rule's own. */
function findingYears(c: Ctx) {
  const rules = Object.values(c.registry ?? RULES);
  const ids = rules.map((r) => r.id);
  const years = rules.map((r) => c.config.retention.findings_years ?? r.processing.retentionYears);
  return sql`unnest(${ids}::text[], ${years}::int[]) AS y(rule_id, years)`;
}

/**
 * Findings to retire: closed, closed and last moved before their rule's cut-off. A rule missing from the registry
 * (an extension no longer installed) keeps its findings: nobody declared how long.
 */
function doomedFindings(c: Ctx) {
  const cut = sql`(${c.today}::date - make_interval(years => y.years))::date`;
  return sql`SELECT f.id FROM findings f JOIN ${findingYears(c)} ON y.rule_id = f.rule_id
    WHERE f.state = 'closed' AND f.closed_on < ${cut}
      AND NOT EXISTS (SELECT 1 FROM finding_events e WHERE e.finding_id = f.id AND e.on_date >= ${cut})`;
}

const versionCut = (c: Ctx) =>
  startOf(minus(c.today, 'years', c.config.retention.history_years), c.config.timezone);

/**
 * The versions of `table` to delete: ended before the cut-off, and behind no finding that stays. A finding kept
 * keeps what its lineage names and, in the roster, the rows of its person and household: the monthly report
 * places a finding of a past month by the roster row valid then and by the records its lineage names, so
 * deleting them would move past months' counts between townships. They go when the finding does.
 */
function doomedVersions(c: Ctx, table: string) {
  const kept = sql`f.id NOT IN (${doomedFindings(c)})`;
  const roster =
    table === 'roster'
      ? sql`AND NOT EXISTS (SELECT 1 FROM findings f WHERE ${kept}
          AND (f.id_number = t.id_number OR f.household_id = t.household_id))`
      : sql``;
  return sql`SELECT t.version_id FROM ${sql.table(table)} t WHERE t.valid_to < ${versionCut(c)}
    AND NOT EXISTS (SELECT 1 FROM finding_lineage l JOIN findings f ON f.id = l.finding_id
      WHERE l.feed = ${table} AND l.version_id = t.version_id AND ${kept}) ${roster}`;
}

/**
 * The columns holding ID numbers (kind id_number) of the registry's feeds whose tables exist here: the person
 * column, and the others (assistance's head_id_number beside each member's id_number).
 */
function idColumns(c: Ctx): { table: string; column: string }[] {
  return Object.values(FEEDS).flatMap((f) =>
    c.feedTables.includes(f.id)
      ? Object.entries(f.fields)
          .filter(([, spec]) => spec.type.kind === 'id_number')
          .map(([column]) => ({ table: f.id, column }))
      : [],
  );
}

/**
 * Persons whose ID number goes: no version naming them (in any ID column) stays after this run — current, ended
 * within lists_years, or kept for a finding (doomedVersions) — so a lists_years shorter than history_years waits
 * for the history; no finding of theirs stays; and no operator's link names them.
 */
function doomedPersons(c: Ctx) {
  const cut = startOf(minus(c.today, 'years', c.config.retention.lists_years), c.config.timezone);
  const onList = idColumns(c).map(
    ({ table, column }) => sql`NOT EXISTS (SELECT 1 FROM ${sql.table(table)} v
      WHERE v.${sql.ref(column)} = p.id_number
        AND (v.valid_to IS NULL OR v.valid_to >= ${cut} OR v.version_id NOT IN (${doomedVersions(c, table)})))`,
  );
  return sql`SELECT p.person_key FROM persons p
    WHERE p.id_number IS NOT NULL AND p.first_seen < ${cut}
      AND ${sql.join(onList, sql` AND `)}
      AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.id_number = p.id_number AND f.id NOT IN (${doomedFindings(c)}))
      -- An operator's link stays in force for the feed's next loads (src/load/link-identities.ts writes the
      -- person's ID into the record): the person it names keeps the ID while the link stands.
      AND NOT EXISTS (SELECT 1 FROM identity_review v WHERE v.person_key = p.person_key AND v.status = 'linked')`;
}

/**
 * The rows of load_conflicts naming a person of `keys`: by person_id, or in the business key (the key fields
 * joined by '|', the ID among them for every feed keyed by person).
 */
function conflictsOf(keys: RawBuilder<unknown>) {
  return sql`SELECT lc.ctid FROM load_conflicts lc JOIN persons p ON p.person_key IN (${keys})
    AND (lc.person_id = p.id_number OR p.id_number = ANY (string_to_array(lc.business_key, '|')))`;
}

function doomedQuarantine(c: Ctx) {
  const cut = startOf(minus(c.today, 'days', c.config.retention.quarantine_days), c.config.timezone);
  // The feed's current load stays whole: R13 judges the rows its latest load rejected, whatever their age.
  return sql`SELECT q.id FROM quarantine q JOIN runs r ON r.id = q.run_id
    WHERE q.raw_purged_on IS NULL AND (q.raw_value IS NOT NULL OR q.record IS NOT NULL)
      AND coalesce(r.finished_at, r.started_at) < ${cut}
      AND q.run_id NOT IN (SELECT last_run_id FROM feed_state WHERE last_run_id IS NOT NULL)
      AND q.run_id NOT IN (SELECT max(id) FROM runs WHERE kind = 'import' AND status = 'succeeded' GROUP BY feed)`;
}

const count = async (db: Kysely<Database>, q: RawBuilder<unknown>) =>
  Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM (${q}) x`.execute(db)).rows[0]?.n ?? 0);

/** True when `path`, links resolved, is below `root`. */
async function inside(root: string, path: string): Promise<boolean> {
  const rel = relative(root, await realpath(path));
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** The processed drop files a successful import read before the cut-off: regular files inside drop.root only. */
async function doomedDropFiles(c: Ctx): Promise<{ path: string; feed: string; bytes: number }[]> {
  const drop = c.config.drop;
  if (!drop) return [];
  const root = await realpath(drop.root).catch(() => null);
  if (!root) return [];
  const cut = startOf(minus(c.today, 'days', c.config.retention.drop_files_days), c.config.timezone);
  const out: { path: string; feed: string; bytes: number }[] = [];
  for (const [feed, folder] of Object.entries(drop.folders)) {
    if (!folder) continue;
    const dir = join(root, folder, 'processed');
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const path = join(dir, name);
      const st = await lstat(path);
      if (!st.isFile() || !(await inside(root, path))) continue;
      const sha = await sha256File(path);
      const r = await sql<{
        ok: boolean;
      }>`SELECT EXISTS (SELECT 1 FROM runs WHERE kind = 'import' AND feed = ${feed}
        AND source_sha256 = ${sha} AND status IN ('succeeded', 'noop') AND finished_at < ${cut}) AS ok`.execute(
        c.wh.db,
      );
      if (r.rows[0]?.ok) out.push({ path, feed, bytes: st.size });
    }
  }
  return out;
}

async function context(p: RetentionParams): Promise<Ctx> {
  return { ...p, feedTables: await feedTablesIn(p.wh.db, p.wh.schema) };
}

const rules = (c: Ctx): Record<RetentionCategory, string> => {
  const r = c.config.retention;
  return {
    findings: `closed more than ${r.findings_years ?? "each rule's retentionYears"} year(s) ago`,
    versions: `ended more than ${r.history_years} year(s) ago`,
    persons: `on no list and in no finding for ${r.lists_years} year(s)`,
    quarantine: `raw values of runs more than ${r.quarantine_days} day(s) old`,
    drop_files: `loaded more than ${r.drop_files_days} day(s) ago`,
  };
};

/** What a retention run would delete today, per category: nothing is changed. */
export async function planRetention(p: RetentionParams): Promise<RetentionOutcome> {
  const c = await context(p);
  const db = c.wh.db;
  const words = rules(c);
  const doomed = doomedFindings(c);
  const findings = await count(db, doomed);
  const versions: Record<string, number> = {};
  for (const t of c.feedTables) {
    const n = await count(db, doomedVersions(c, t));
    if (n) versions[t] = n;
  }
  const files = await doomedDropFiles(c);
  const outcome = (category: RetentionCategory, n: number, details: Record<string, number> = {}) => ({
    category,
    rule: words[category],
    count: n,
    details,
  });
  return {
    today: c.today,
    dryRun: true,
    categories: [
      outcome('findings', findings, {
        events: await count(db, sql`SELECT 1 FROM finding_events WHERE finding_id IN (${doomed})`),
        lineage: await count(db, sql`SELECT 1 FROM finding_lineage WHERE finding_id IN (${doomed})`),
      }),
      outcome(
        'versions',
        Object.values(versions).reduce((a, b) => a + b, 0),
        versions,
      ),
      outcome('persons', await count(db, doomedPersons(c)), {
        load_conflicts: await count(db, conflictsOf(sql`SELECT person_key FROM (${doomedPersons(c)}) d`)),
      }),
      outcome('quarantine', await count(db, doomedQuarantine(c))),
      outcome(
        'drop_files',
        files.length,
        files.length ? { bytes: files.reduce((a, f) => a + f.bytes, 0) } : {},
      ),
    ],
  };
}

/** Deletes what planRetention counts, one transaction and one audit row per category. */
export async function runRetention(p: RetentionParams): Promise<RetentionOutcome> {
  const c = await context(p);
  const words = rules(c);
  const actor = p.actor ?? 'cli';
  const out: CategoryOutcome[] = [];
  const done = async (
    trx: Kysely<Database>,
    category: RetentionCategory,
    n: number,
    details: Record<string, number> = {},
  ) => {
    const o = { category, rule: words[category], count: n, details };
    // The audit row is the transaction's last statement: written exactly when the deletion is.
    await writeAudit(trx, {
      actor,
      role: 'operator',
      action: `retention.${category}`,
      target: words[category],
      rowCount: n,
      details: { today: c.today, ...details },
    });
    out.push(o);
  };
  const affected = (r: { numAffectedRows?: bigint }) => Number(r.numAffectedRows ?? 0);

  await c.wh.db.transaction().execute(async (trx) => {
    // The rules' locks, as a match takes them (src/matching/run-match.ts), in one order: no match moves a
    // finding while it is counted and deleted.
    for (const rule of Object.keys(c.registry ?? RULES).sort()) {
      await sql`SELECT pg_advisory_xact_lock(hashtext('ruralhub.rule'), hashtext(${`${c.wh.schema}.${rule}`}))`.execute(
        trx,
      );
    }
    const ids = (
      await sql<{ id: number }>`SELECT id FROM (${doomedFindings(c)}) d FOR UPDATE`.execute(trx)
    ).rows.map((r) => r.id);
    const doomed = sql`SELECT unnest(${ids}::bigint[])`;
    const summary = ids.length ? await summarizeRetiredFindings(trx, doomed, c.today) : 0;
    const lineage = affected(
      await sql`DELETE FROM finding_lineage WHERE finding_id IN (${doomed})`.execute(trx),
    );
    const events = affected(
      await sql`DELETE FROM finding_events WHERE finding_id IN (${doomed})`.execute(trx),
    );
    const findings = affected(await sql`DELETE FROM findings WHERE id IN (${doomed})`.execute(trx));
    await done(trx, 'findings', findings, { events, lineage, summary_rows: summary });
  });

  await c.wh.db.transaction().execute(async (trx) => {
    const versions: Record<string, number> = {};
    for (const t of c.feedTables) {
      // The feed's load lock (src/warehouse/ledger.ts), waited for: a load that saw its table written by
      // someone else mid-run would fail. The delete marks the table written (0014's trigger), so the feed's next
      // load reads its current versions from the table once instead of from recognition_cache.
      await sql`SELECT pg_advisory_xact_lock(hashtext('ruralhub.feed'), hashtext(${`${c.wh.schema}.${t}`}))`.execute(
        trx,
      );
      const n = affected(
        await sql`DELETE FROM ${sql.table(t)} WHERE version_id IN (${doomedVersions(c, t)})`.execute(trx),
      );
      if (n) versions[t] = n;
    }
    await done(
      trx,
      'versions',
      Object.values(versions).reduce((a, b) => a + b, 0),
      versions,
    );
  });

  await c.wh.db.transaction().execute(async (trx) => {
    // The conflicts of past loads naming them go too (their counts stay in runs); the persons' keys stay.
    const keys = sql`SELECT person_key FROM (${doomedPersons(c)}) d`;
    const conflicts = affected(
      await sql`DELETE FROM load_conflicts WHERE ctid IN (SELECT ctid FROM (${conflictsOf(keys)}) x)`.execute(
        trx,
      ),
    );
    const persons = affected(
      await sql`UPDATE persons SET id_number = NULL, id_purged_on = ${c.today}::date
        WHERE person_key IN (${keys})`.execute(trx),
    );
    await done(trx, 'persons', persons, { load_conflicts: conflicts });
  });

  await c.wh.db.transaction().execute(async (trx) => {
    const n = affected(
      await sql`UPDATE quarantine SET raw_value = NULL, record = NULL, raw_purged_on = ${c.today}::date
        WHERE id IN (${doomedQuarantine(c)})`.execute(trx),
    );
    await done(trx, 'quarantine', n);
  });

  // Files are not transactional: deleted first, then audited with what was deleted. A failure half way leaves
  // the rest for the next run, and the audit row of this one is not written (the error says why).
  const files = await doomedDropFiles(c);
  for (const f of files) await rm(f.path);
  await c.wh.db.transaction().execute(async (trx) => {
    await done(
      trx,
      'drop_files',
      files.length,
      files.length ? { bytes: files.reduce((a, f) => a + f.bytes, 0) } : {},
    );
  });

  return { today: c.today, dryRun: false, categories: out };
}
