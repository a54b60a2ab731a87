/**
 * Runs cross-match rules. Each rule: check its feeds have complete loads (else it does not run, and so closes
 * nothing for lack of evidence), then in ONE repeatable-read transaction: its query into a temp table, the
 * population count, the finding transitions, and the run's ledger row with the loads it read.
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { RULES } from '../../pipelines/rules/index.ts';
import type { Config } from '../../schemas/config.ts';
import type { RuleDefinition } from '../../schemas/rule.ts';
import type { RuleId } from '../../schemas/vocab.ts';
import { configError, RuralHubError } from '../errors.ts';
import { failRun, finishRun, startRun } from '../load/ledger.ts';
import type { Logger } from '../log.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { applyTransitions, type TransitionCounts } from './transitions.ts';

export interface RuleOutcome extends Partial<TransitionCounts> {
  rule: RuleId;
  name: string;
  owner: string;
  status: 'ran' | 'skipped';
  reason?: string;
  runId?: number;
  population?: number;
  durationMs: number;
}

export interface MatchParams {
  wh: Warehouse;
  config: Readonly<Config>;
  log: Logger;
  asOf: string;
  /** Rules to run; default: every implemented rule enabled in config. */
  rules?: readonly RuleId[];
}

const DEFAULT_SUPPRESS_DAYS = 365;

export function selectRules(config: Readonly<Config>, wanted?: readonly RuleId[]): RuleDefinition<never>[] {
  const ids = wanted?.length ? wanted : (Object.keys(RULES) as RuleId[]);
  return ids
    .map((id) => {
      const rule = RULES[id];
      if (!rule) {
        throw configError(`rule ${id} is not implemented yet; implemented: ${Object.keys(RULES).join(', ')}`);
      }
      return rule;
    })
    .filter((r) => wanted?.length || config.rules[r.id]?.enabled !== false);
}

function ruleParams(rule: RuleDefinition<never>, config: Readonly<Config>): never {
  const parsed = rule.params.safeParse(config.rules[rule.id]?.params ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (i) => `rules.${rule.id}.params.${i.path.join('.')}: ${i.message}`,
    );
    throw configError(`invalid rule parameters: ${issues.join('; ')}`);
  }
  return parsed.data;
}

export async function runMatch(p: MatchParams): Promise<RuleOutcome[]> {
  const rules = selectRules(p.config, p.rules);
  const out: RuleOutcome[] = [];
  for (const rule of rules) out.push(await runRule(p, rule));
  return out;
}

async function runRule(p: MatchParams, rule: RuleDefinition<never>): Promise<RuleOutcome> {
  const { wh, config, asOf } = p;
  const { db } = wh;
  const started = performance.now();
  const base = { rule: rule.id, name: rule.name, owner: rule.owner };
  const params = ruleParams(rule, config);
  const loads = await db
    .selectFrom('feed_state')
    .select(['feed', 'last_run_id'])
    .where('feed', 'in', [...rule.requires])
    .where('last_run_id', 'is not', null)
    .execute();
  const missing = rule.requires.filter((f) => !loads.some((l) => l.feed === f));
  if (missing.length) {
    const reason = `required feeds never loaded: ${missing.join(', ')}`;
    p.log.warn({ rule: rule.id, missing }, `rule not run: ${reason}`);
    return { ...base, status: 'skipped', reason, durationMs: performance.now() - started };
  }
  const runId = await startRun(db, { kind: 'match', source: rule.id });
  const rlog = p.log.child({ run_id: runId, rule: rule.id });
  try {
    const result = `match_${runId}`;
    const counts = await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        // One rule at a time across processes: the transaction holds the rule's lock until it ends.
        await sql`SELECT pg_advisory_xact_lock(hashtext('ruralhub.rule'), hashtext(${`${wh.schema}.${rule.id}`}))`.execute(
          trx,
        );
        await sql`CREATE TEMP TABLE ${sql.id(result)} ON COMMIT DROP AS ${rule.findings(trx, { asOf, params })}`.execute(
          trx,
        );
        const pop = await sql<{ n: number }>`${rule.population(trx, { asOf, params })}`.execute(trx);
        const t = await applyTransitions(trx, {
          rule,
          runId,
          asOf,
          deadlineDays: config.rules[rule.id]?.deadline_days ?? rule.deadlineDays,
          suppressDays: DEFAULT_SUPPRESS_DAYS,
          resultTable: result,
        });
        const population = pop.rows[0]?.n ?? 0;
        await finishRun(trx, runId, 'succeeded', undefined, {
          rule: rule.id,
          as_of: asOf,
          loads: Object.fromEntries(loads.map((l) => [l.feed, l.last_run_id])),
          population,
          ...t,
        });
        return { ...t, population };
      });
    const durationMs = performance.now() - started;
    rlog.info({ ...counts, ms: Math.round(durationMs) }, 'rule ran');
    return { ...base, status: 'ran', runId, ...counts, durationMs };
  } catch (err) {
    await failRun(db, runId, err).catch(() => undefined);
    if (err instanceof RuralHubError) throw err;
    throw new RuralHubError('terminal', `rule ${rule.id} failed: ${(err as Error).message}`, { cause: err });
  }
}
