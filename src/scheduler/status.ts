/**
 * `ruralhub status`: what an operator (or a monitoring probe) needs in one look, computed from the ledger:
 * per feed — last success and its age, rows, last failure and its message, next scheduled load, a verdict;
 * per rule — last run, open and overdue findings; per scheduled job — its latest slot; and the server settings
 * a load's speed depends on, against a warehouse's. A verdict other than `ok` / `not_configured` makes the
 * command exit non-zero (the settings are advice).
 */
import { sql } from 'kysely';
import { isoLocal, todayIn } from '../../core/clock.ts';
import { FEED_IDS, type FeedId } from '../../pipelines/feeds/index.ts';
import { RULE_IDS, RULES } from '../../pipelines/rules/index.ts';
import type { Config } from '../../schemas/config.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { type SettingAdvice, serverSettings } from '../warehouse/server-settings.ts';
import { nextSlot } from './slots.ts';

/** ok; stale (older than its freshness limit); failing (last run failed); held (a snapshot held by the shrink
 * guard); nothing_kept (its last load read rows and kept none: every one quarantined — the rules read an empty
 * feed, which a succeeded run does not show); missing (never loaded, but an enabled rule needs it); not_configured
 * (never loaded, not needed). */
export const FEED_VERDICTS = [
  'ok',
  'stale',
  'failing',
  'held',
  'nothing_kept',
  'missing',
  'not_configured',
] as const;
export type FeedVerdict = (typeof FEED_VERDICTS)[number];
const HEALTHY: ReadonlySet<string> = new Set([
  'ok',
  'not_configured',
  'succeeded',
  'noop',
  'never',
  'skipped',
]);

export interface FeedStatus {
  feed: FeedId;
  verdict: FeedVerdict;
  last_success: string | null;
  age_days: number | null;
  max_age_days: number;
  rows: number;
  /** The last load that published (a no-op is none): rows read, kept and quarantined; null before one. */
  last_load: { read: number; loaded: number; quarantined: number } | null;
  last_failure: string | null;
  failure: string | null;
  next_scheduled: string | null;
}

export interface RuleStatus {
  rule: string;
  enabled: boolean;
  last_run: string | null;
  last_status: string;
  open: number;
  overdue: number;
}

export interface JobStatus {
  job: string;
  kind: string;
  last_slot: string | null;
  status: string;
  attempts: number;
  message: string | null;
  next_slot: string;
}

export interface Status {
  feeds: FeedStatus[];
  rules: RuleStatus[];
  jobs: JobStatus[];
  /** The server's settings against a warehouse's (advice only: they do not make the status unhealthy). */
  server: SettingAdvice[];
  healthy: boolean;
}

export async function collectStatus(wh: Warehouse, config: Readonly<Config>, now: Date): Promise<Status> {
  const enabledRules = RULE_IDS.filter((r) => config.rules[r]?.enabled !== false);
  const needed = new Set<string>(enabledRules.flatMap((r) => RULES[r].requires));
  const feedRows = await sql<{
    feed: string;
    last_success: Date | null;
    last_failure: Date | null;
    failure: string | null;
    last_status: string | null;
    rows: string | null;
    read: string | null;
    loaded: string | null;
    quarantined: string | null;
  }>`
    SELECT f.feed,
      (SELECT max(r.finished_at) FROM runs r WHERE r.kind = 'import' AND r.feed = f.feed
         AND r.status IN ('succeeded', 'noop')) AS last_success,
      lf.finished_at AS last_failure, lf.error AS failure,
      (SELECT r.status FROM runs r WHERE r.kind = 'import' AND r.feed = f.feed AND r.status <> 'skipped'
         ORDER BY r.started_at DESC, r.id DESC LIMIT 1) AS last_status,
      (SELECT s.current_rows FROM feed_state s WHERE s.feed = f.feed)::text AS rows,
      ll.rows_read::text AS read, ll.rows_loaded::text AS loaded, ll.rows_quarantined::text AS quarantined
    FROM unnest(${[...FEED_IDS]}::text[]) AS f(feed)
    LEFT JOIN LATERAL (SELECT r.rows_read, r.rows_loaded, r.rows_quarantined FROM runs r
      WHERE r.kind = 'import' AND r.feed = f.feed AND r.status = 'succeeded'
      ORDER BY r.finished_at DESC NULLS LAST, r.id DESC LIMIT 1) ll ON true
    LEFT JOIN LATERAL (SELECT r.finished_at, r.error FROM runs r
      WHERE r.kind = 'import' AND r.feed = f.feed AND r.status = 'failed'
      ORDER BY r.finished_at DESC NULLS LAST LIMIT 1) lf ON true`.execute(wh.db);

  const jobsOf = Object.entries(config.scheduler.jobs).filter(([, j]) => j.enabled);
  const feeds: FeedStatus[] = feedRows.rows.map((r) => {
    const feed = r.feed as FeedId;
    const maxAge = config.matching.feed_max_age_days[feed] ?? config.matching.max_feed_age_days;
    const age = r.last_success ? (now.getTime() - r.last_success.getTime()) / 86_400_000 : null;
    const failingNow = r.last_failure && (!r.last_success || r.last_failure > r.last_success);
    const lastLoad =
      r.read === null
        ? null
        : { read: Number(r.read), loaded: Number(r.loaded), quarantined: Number(r.quarantined) };
    const verdict: FeedVerdict = !r.last_success
      ? r.last_status === 'failed'
        ? 'failing'
        : needed.has(feed)
          ? 'missing'
          : 'not_configured'
      : r.last_status === 'failed'
        ? 'failing'
        : r.last_status === 'held'
          ? 'held'
          : lastLoad && lastLoad.read > 0 && lastLoad.loaded === 0
            ? 'nothing_kept'
            : age !== null && age > maxAge
              ? 'stale'
              : 'ok';
    const next = jobsOf
      .filter(([, j]) => j.kind === 'import' && j.feed === feed)
      .map(([, j]) => nextSlot(j.cron, now, config.timezone).getTime())
      .sort((a, b) => a - b)[0];
    return {
      feed,
      verdict,
      last_success: r.last_success ? isoLocal(config.timezone, r.last_success) : null,
      age_days: age === null ? null : Math.round(age * 10) / 10,
      max_age_days: maxAge,
      rows: Number(r.rows ?? 0),
      last_load: lastLoad,
      last_failure: failingNow ? isoLocal(config.timezone, r.last_failure!) : null,
      failure: failingNow ? r.failure : null,
      next_scheduled: next === undefined ? null : isoLocal(config.timezone, new Date(next)),
    };
  });

  const today = todayIn(config.timezone, now);
  const ruleRows = await sql<{
    rule: string;
    last_run: Date | null;
    last_status: string | null;
    open: number;
    overdue: number;
  }>`
    SELECT r.rule,
      lr.started_at AS last_run, lr.status AS last_status,
      (SELECT count(*)::int FROM findings f WHERE f.rule_id = r.rule AND f.state <> 'closed') AS open,
      (SELECT count(*)::int FROM findings f WHERE f.rule_id = r.rule AND f.state <> 'closed'
         AND f.deadline < ${today}::date) AS overdue
    FROM unnest(${[...RULE_IDS]}::text[]) AS r(rule)
    LEFT JOIN LATERAL (SELECT x.started_at, x.status FROM runs x WHERE x.kind = 'match' AND x.source = r.rule
      ORDER BY x.started_at DESC, x.id DESC LIMIT 1) lr ON true`.execute(wh.db);
  const rules: RuleStatus[] = ruleRows.rows.map((r) => ({
    rule: r.rule,
    enabled: enabledRules.includes(r.rule as never),
    last_run: r.last_run ? isoLocal(config.timezone, r.last_run) : null,
    last_status: r.last_status ?? 'never',
    open: r.open,
    overdue: r.overdue,
  }));

  const slotRows = await sql<{
    job: string;
    slot: Date;
    status: string;
    attempts: number;
    error: string | null;
  }>`
    SELECT DISTINCT ON (job) job, slot, status, attempts, error FROM job_slots
    ORDER BY job, slot DESC`.execute(wh.db);
  const jobs: JobStatus[] = jobsOf.map(([name, j]) => {
    const last = slotRows.rows.find((s) => s.job === name);
    return {
      job: name,
      kind: j.kind,
      last_slot: last ? isoLocal(config.timezone, last.slot) : null,
      status: last?.status ?? 'never',
      attempts: last?.attempts ?? 0,
      message: last && last.status !== 'succeeded' ? last.error : null,
      next_slot: isoLocal(config.timezone, nextSlot(j.cron, now, config.timezone)),
    };
  });

  const healthy =
    feeds.every((f) => HEALTHY.has(f.verdict)) &&
    rules.every((r) => !r.enabled || r.last_status !== 'failed') &&
    jobs.every((j) => HEALTHY.has(j.status) || j.status === 'running' || j.status === 'retry');
  return { feeds, rules, jobs, server: await serverSettings(wh.db), healthy };
}
