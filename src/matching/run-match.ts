/**
 * Runs cross-match rules. Each rule: check its feeds have complete loads (else it does not run, and so closes
 * nothing for lack of evidence), then in ONE repeatable-read transaction: its query into a temp table, the
 * population count, the finding transitions, and the run's ledger row with the loads it read.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { configError, RuralHubError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { phaseTimer } from '../../core/phase-timer.ts';
import type { FeedId } from '../../pipelines/feeds/index.ts';
import { RULES, type RuleId, type RuleRegistry } from '../../pipelines/rules/index.ts';
import type { BoundRule, Rule } from '../../pipelines/rules/rule.ts';
import type { Config } from '../../schemas/config.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { failRun, finishRun, startRun } from '../warehouse/ledger.ts';
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
  /** Called after each rule (progress for a person watching). */
  onRule?(outcome: RuleOutcome<Id>, done: number, total: number): void;
  /** Wall clock for feed freshness (tests pass one). */
  now?: Date;
  /** Run even when the inputs are the same as the last run's. */
  force?: boolean;
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
  if (!p.force && last?.source_sha256 === fingerprint) {
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
    const result = `match_${runId}`;
    const phase = phaseTimer();
    // The population is informational (the "of N" of the outcome): counted on a second connection while
    // the rule's own statements run, so the two cores share the work instead of taking turns.
    const populationQuery = sql<{ n: number }>`${bound.population(db, asOf)}`.execute(db);
    populationQuery.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    const counts = await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
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
