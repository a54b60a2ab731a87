/**
 * Runs cross-match rules. Each rule: check its feeds have complete loads (else it does not run, and so closes
 * nothing for lack of evidence), then in ONE repeatable-read transaction: its query into a temp table, the
 * population count, the finding transitions, and the run's ledger row with the loads it read.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type Kysely, sql } from 'kysely';
import { configError, RuralHubError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { phaseTimer } from '../../core/phase-timer.ts';
import type { FeedId } from '../../pipelines/feeds/index.ts';
import { RULES, type RuleId, type RuleRegistry } from '../../pipelines/rules/index.ts';
import type { BoundRule, Rule } from '../../pipelines/rules/rule.ts';
import type { Config } from '../../schemas/config.ts';
import { type FeedLookup, insertFindingLineage } from '../findings/lineage.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { failRun, finishRun, startRun } from '../warehouse/ledger.ts';
import type { Database } from '../warehouse/schema.ts';
import { applyTransitions, type TransitionCounts } from './transitions.ts';

export interface RuleOutcome<Id extends string = RuleId> extends Partial<TransitionCounts> {
  rule: Id;
  name: string;
  owner: string;
  /** ran; skipped (a required feed missing or stale); unchanged (same inputs as the last run: a no-op). */
  status: 'ran' | 'skipped' | 'unchanged';
  reason?: string;
  runId?: number;
  population?: number;
  durationMs: number;
  /** A dry run only: the findings the run would open, keep, close or reopen. */
  findings?: DryRunFinding[];
}

export interface MatchParams<Id extends string = RuleId> {
  wh: Warehouse;
  config: Readonly<Config>;
  log: Logger;
  asOf: string;
  /** The rules there are; default: the project's (pipelines/rules/index.ts). An extension or a test passes its own. */
  registry?: RuleRegistry<Id>;
  /** Rules to run; default: every rule of the registry enabled in config. */
  rules?: readonly Id[];
  /**
   * The feeds there are, as `migrate` was given them: default the project's (pipelines/feeds/index.ts). An
   * extension whose rules read its own feeds passes them, so that its findings' lineage names their records.
   */
  feeds?: FeedLookup;
  /** Called after each rule (progress for a person watching). */
  onRule?(outcome: RuleOutcome<Id>, done: number, total: number): void;
  /** Wall clock for feed freshness (tests pass one). */
  now?: Date;
  /** Run even when the inputs are the same as the last run's. */
  force?: boolean;
  /**
   * Compute what the run would do and leave nothing behind: each rule's statements run in its transaction
   * as usual (as run 0, which no real run is), the findings it moved are read, and the transaction is rolled
   * back. No run-ledger row, finding, event or lock remains; each outcome carries its `findings`.
   */
  dryRun?: boolean;
}

/** What a dry run would do to one finding: open it (new), keep it open, close it by data, or reopen it. */
export type DryRunAction = 'new' | 'keep' | 'close' | 'reopen';

/** One finding a dry run would open, keep, close or reopen, as it would stand after the run. */
export interface DryRunFinding {
  action: DryRunAction;
  /** The finding's id; null for one the run would create. */
  id: number | null;
  rule: string;
  subject_kind: string;
  department: string;
  id_number: string | null;
  household_id: string | null;
  name: string | null;
  township: string | null;
  village: string | null;
  state: string;
  deadline: string | null;
  details: unknown;
}

/** The run id a dry run's statements write (and roll back): ledger ids start at 1, so no real run has it. */
const DRY_RUN_ID = 0;

/** Thrown inside a dry run's transaction, after reading what it did, so that the transaction rolls back. */
class DryRunRollback extends Error {
  constructor(readonly result: TransitionCounts & { findings: DryRunFinding[] }) {
    super('dry run: rolled back');
  }
}

const DEFAULT_SUPPRESS_DAYS = 365;

/**
 * The county's settings of a rule (config `rules.<id>`). Read by the id as a string: a rule of another
 * registry has no key of the project's in the config's type, and simply has no settings there.
 */
function ruleConfig(config: Readonly<Config>, id: string) {
  return new Map(Object.entries(config.rules)).get(id);
}

export function selectRules<Id extends string>(
  config: Readonly<Config>,
  registry: RuleRegistry<Id>,
  wanted?: readonly Id[],
): Rule<Id>[] {
  const all: Rule<Id>[] = Object.values(registry);
  if (!wanted?.length) return all.filter((r) => ruleConfig(config, r.id)?.enabled !== false);
  return wanted.map((id) => {
    const rule = all.find((r) => r.id === id);
    if (!rule) {
      throw configError(`rule ${id} is not implemented yet; implemented: ${all.map((r) => r.id).join(', ')}`);
    }
    return rule;
  });
}

/** The rule with the county's parameters (config `rules.<id>.params`) checked and bound; a config error if they do not fit. */
export function bindRule(rule: Rule, config: Readonly<Config>): BoundRule {
  const bound = rule.bind(ruleConfig(config, rule.id)?.params ?? {});
  if (!bound.ok) {
    const issues = bound.issues.map((i) => `rules.${rule.id}.params.${i.path.join('.')}: ${i.message}`);
    throw configError(`invalid rule parameters: ${issues.join('; ')}`);
  }
  return bound.rule;
}

/** Runs the rules of the project's registry, or of `registry` when given (its own ids then). */
export function runMatch(p: MatchParams<RuleId>): Promise<RuleOutcome<RuleId>[]>;
export function runMatch<Id extends string>(
  p: MatchParams<Id> & { registry: RuleRegistry<Id> },
): Promise<RuleOutcome<Id>[]>;
export async function runMatch(p: MatchParams<string>): Promise<RuleOutcome<string>[]> {
  const rules = selectRules<string>(p.config, p.registry ?? RULES, p.rules);
  const out: RuleOutcome<string>[] = [];
  for (const [i, rule] of rules.entries()) {
    out.push(await runRule(p, rule));
    p.onRule?.(out.at(-1)!, i + 1, rules.length);
  }
  return out;
}

async function runRule(p: MatchParams<string>, rule: Rule): Promise<RuleOutcome<string>> {
  const { wh, config, asOf } = p;
  const { db } = wh;
  const started = performance.now();
  const base = { rule: rule.id, name: rule.name, owner: rule.owner };
  const bound = bindRule(rule, config);
  const loads = await db
    .selectFrom('feed_state')
    .select(['feed', 'last_run_id', 'last_success_at'])
    .where('feed', 'in', [...rule.requires, ...(rule.uses ?? [])])
    .where('last_run_id', 'is not', null)
    .execute();
  const missing = rule.requires.filter((f) => !loads.some((l) => l.feed === f));
  const { max_feed_age_days, feed_max_age_days } = config.matching;
  const now = p.now ?? new Date();
  const stale = loads
    .filter((l) => rule.requires.includes(l.feed as FeedId) && l.last_success_at)
    .map((l) => ({
      feed: l.feed,
      days: Math.floor((now.getTime() - new Date(l.last_success_at as Date).getTime()) / 86_400_000),
      limit: feed_max_age_days[l.feed as FeedId] ?? max_feed_age_days,
    }))
    .filter((l) => l.days > l.limit);
  if (missing.length || stale.length) {
    const reason = [
      missing.length ? `required feeds never loaded: ${missing.join(', ')}` : '',
      ...stale.map((s) => `feed ${s.feed} is stale: last loaded ${s.days} days ago (limit ${s.limit})`),
    ]
      .filter(Boolean)
      .join('; ');
    p.log.warn({ rule: rule.id, missing, stale }, `rule not run: ${reason}`);
    return { ...base, status: 'skipped', reason, durationMs: performance.now() - started };
  }
  const settings = ruleConfig(config, rule.id);
  const deadlineDays = settings?.deadline_days ?? rule.deadlineDays;
  const suppressDays = settings?.suppress_days ?? DEFAULT_SUPPRESS_DAYS;
  const loadIds = Object.fromEntries(loads.map((l) => [l.feed, l.last_run_id]));
  // Same query text and parameters (rule logic, params, reference date), same loads, same deadline: the
  // result and every transition would be the same, so the run is recorded as a no-op and costs nothing.
  const compiled = sql`${bound.findings(db, asOf)}`.compile(db);
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([compiled.sql, compiled.parameters, loadIds, deadlineDays, suppressDays]))
    .digest('hex');
  const last = await db
    .selectFrom('runs')
    .select(['id', 'source_sha256', 'details'])
    .where('kind', '=', 'match')
    .where('source', '=', rule.id)
    .where('status', 'in', ['succeeded', 'noop'])
    .orderBy('id', 'desc')
    .executeTakeFirst();
  const unchanged = !p.force && last?.source_sha256 === fingerprint;
  if (p.dryRun) {
    return dryRunRule(p, rule, bound, {
      base,
      started,
      unchanged,
      deadlineDays,
      suppressDays,
    });
  }
  if (unchanged) {
    const prev = last.details as { found?: number; population?: number };
    const runId = await startRun(db, { kind: 'match', source: rule.id, sha256: fingerprint });
    await finishRun(db, runId, 'noop', undefined, {
      rule: rule.id,
      as_of: asOf,
      loads: loadIds,
      same_as: last.id,
    });
    p.log.info(
      { run_id: runId, rule: rule.id, same_as: last.id },
      'inputs unchanged since the last run: no-op',
    );
    return {
      ...base,
      status: 'unchanged',
      runId,
      found: prev.found ?? 0,
      new: 0,
      reopened: 0,
      stillOpen: prev.found ?? 0,
      closed: 0,
      population: prev.population ?? 0,
      durationMs: performance.now() - started,
    };
  }
  const runId = await startRun(db, { kind: 'match', source: rule.id, sha256: fingerprint });
  const rlog = p.log.child({ run_id: runId, rule: rule.id });
  try {
    const phase = phaseTimer();
    // The population is informational (the "of N" of the outcome): counted on a second connection while
    // the rule's own statements run, so the two cores share the work instead of taking turns.
    const populationQuery = sql<{ n: number }>`${bound.population(db, asOf)}`.execute(db);
    populationQuery.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    const counts = await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        const t = await ruleStatements(trx, p, rule, bound, { runId, deadlineDays, suppressDays, phase });
        const population = (await populationQuery).rows[0]?.n ?? 0;
        phase('population_wait');
        await finishRun(trx, runId, 'succeeded', undefined, {
          rule: rule.id,
          as_of: asOf,
          loads: loadIds,
          population,
          ...t,
        });
        return { ...t, population };
      });
    const durationMs = performance.now() - started;
    rlog.info({ ...counts, ms: Math.round(durationMs), phases: phase.all() }, 'rule ran');
    return { ...base, status: 'ran', runId, ...counts, durationMs };
  } catch (err) {
    await failRun(db, runId, err).catch(() => undefined);
    if (err instanceof RuralHubError) throw err;
    throw new RuralHubError('terminal', `rule ${rule.id} failed: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * A rule's statements in its transaction: the rule's lock, its result into a temp table, the transitions.
 * The real run and the dry run both run these, so a dry run computes exactly what a run would.
 */
async function ruleStatements(
  trx: Kysely<Database>,
  p: MatchParams<string>,
  rule: Rule,
  bound: BoundRule,
  o: { runId: number; deadlineDays: number; suppressDays: number; phase: (name: string) => void },
): Promise<TransitionCounts> {
  const { wh, asOf } = p;
  const { runId, deadlineDays, suppressDays, phase } = o;
  const result = `match_${runId}`;
  // One rule at a time across processes: the transaction holds the rule's lock until it ends.
  await sql`SELECT pg_advisory_xact_lock(hashtext('ruralhub.rule'), hashtext(${`${wh.schema}.${rule.id}`}))`.execute(
    trx,
  );
  // The department is the rule's owner unless the rule routes a finding elsewhere (R10, R13), and the
  // subject kind the rule's unless a row says otherwise (R13's unlinkable records).
  // Only rules with several owners select these columns; reading them through to_jsonb costs a
  // conversion of every row, so the other rules take their owner and kind as constants.
  const routed = rule.owners !== undefined;
  const department = routed
    ? sql`coalesce(to_jsonb(q) ->> 'department', ${rule.owner})`
    : sql`${rule.owner}::text`;
  const subjectKind = routed
    ? sql`coalesce(to_jsonb(q) ->> 'subject_kind', ${rule.subjectKind})`
    : sql`${rule.subjectKind}::text`;
  phase('lock');
  await sql`CREATE TEMP TABLE ${sql.id(result)} ON COMMIT DROP AS
          SELECT q.subject_key, ${department} AS department, ${subjectKind} AS subject_kind,
                 q.id_number, q.household_id, q.name, q.township, q.village, q.details
          FROM (${bound.findings(trx, asOf)}) q`.execute(trx);
  phase('result');
  const t = await applyTransitions(trx, {
    rule,
    runId,
    asOf,
    deadlineDays,
    suppressDays,
    resultTable: result,
  });
  phase('transitions');
  // Lineage for the events this run wrote (one per finding opened, reopened or closed); none written, none to
  // trace, and the statement (one branch per feed: R13 reads all twelve) is not even planned. A dry run (and a
  // dry-run backfill, date after date) would roll it back unread: it is not written at all.
  if (!p.dryRun && t.new + t.reopened + t.closed > 0)
    await insertFindingLineage(trx, { rule, runId, asOf, ...(p.feeds ? { feeds: p.feeds } : {}) });
  phase('lineage');
  return t;
}

/**
 * A dry run of one rule: the rule's statements as a run would make them, in the same repeatable-read
 * transaction under the same lock, as run 0; then the findings that run moved or kept are read, and the
 * transaction is rolled back (DryRunRollback). Its temp table and its lock go with it; no ledger row is written.
 */
async function dryRunRule(
  p: MatchParams<string>,
  rule: Rule,
  bound: BoundRule,
  o: {
    base: Pick<RuleOutcome<string>, 'rule' | 'name' | 'owner'>;
    started: number;
    unchanged: boolean;
    deadlineDays: number;
    suppressDays: number;
  },
): Promise<RuleOutcome<string>> {
  const { db } = p.wh;
  const runId = DRY_RUN_ID;
  const populationQuery = sql<{ n: number }>`${bound.population(db, p.asOf)}`.execute(db);
  populationQuery.catch(() => undefined);
  try {
    await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        const t = await ruleStatements(trx, p, rule, bound, { ...o, runId, phase: () => undefined });
        // What run 0 did: its event says new, reopened or closed; a finding it saw without an event and not
        // closed is kept open (one closed by review and still suppressed is neither, and is left out).
        const rows = await sql<
          Omit<DryRunFinding, 'action' | 'rule'> & { to_state: string | null; from_state: string | null }
        >`
          SELECT f.id, f.subject_kind, f.department, f.id_number, f.household_id, f.name, f.township, f.village,
                 f.state, to_char(f.deadline, 'YYYY-MM-DD') AS deadline, f.details, e.from_state, e.to_state
          FROM findings f
          LEFT JOIN finding_events e ON e.finding_id = f.id AND e.run_id = ${runId}
          WHERE f.rule_id = ${rule.id} AND (f.last_seen_run = ${runId} OR e.id IS NOT NULL)
          ORDER BY f.township, f.village, f.id`.execute(trx);
        const findings: DryRunFinding[] = [];
        for (const { from_state, to_state, ...r } of rows.rows) {
          const action: DryRunAction | null =
            to_state === null
              ? r.state === 'closed'
                ? null
                : 'keep'
              : from_state === null
                ? 'new'
                : to_state === 'closed'
                  ? 'close'
                  : 'reopen';
          if (action) {
            findings.push({ ...r, action, rule: rule.id, id: action === 'new' ? null : Number(r.id) });
          }
        }
        throw new DryRunRollback({ ...t, findings });
      });
  } catch (err) {
    if (err instanceof DryRunRollback) {
      const population = (await populationQuery).rows[0]?.n ?? 0;
      return {
        ...o.base,
        status: o.unchanged ? 'unchanged' : 'ran',
        ...err.result,
        population,
        durationMs: performance.now() - o.started,
      };
    }
    if (err instanceof RuralHubError) throw err;
    throw new RuralHubError('terminal', `rule ${rule.id} failed: ${(err as Error).message}`, { cause: err });
  }
  throw new Error('unreachable: a dry run always rolls back');
}
