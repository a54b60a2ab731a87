/**
 * What a scheduled job does, by kind. Each kind calls the same function its CLI command calls, so a
 * scheduled import is exactly a manual one. A match suite first checks that the feeds it needs loaded
 * successfully within its window before the slot; if not, it is held (not failed) and says which feed.
 */
import { join } from 'node:path';
import { sql } from 'kysely';
import { formatLocal, todayIn } from '../../core/clock.ts';
import { dataError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import type { CountyConfig, CountyJob } from '../config/load-config.ts';
import { exportLists } from '../delivery/export-lists.ts';
import { DROP_OUTCOMES, takeDrops } from '../drop/take-drops.ts';
import { configuredSource, importFeed } from '../load/import-feed.ts';
import { runMatch } from '../matching/run-match.ts';
import { previousMonth, writeMonthlyReport } from '../reporting/run-report.ts';
import { runRetention } from '../retention/retention.ts';
import type { Warehouse } from '../warehouse/connect.ts';

export type JobResult =
  | { status: 'succeeded'; runIds: number[]; summary: string }
  | { status: 'held'; runIds: number[]; summary: string };

export interface JobContext {
  wh: Warehouse;
  config: Readonly<CountyConfig>;
  log: Logger;
  /** The slot being run; its calendar date (in the county's time zone) is the job's as-of date. */
  slot: Date;
}

/**
 * Feeds of `needs` without a successful load since `hours` before `slot`, with why. A load finished after
 * the slot counts too: a held suite re-checked later runs as soon as its feed has arrived.
 */
export async function staleNeeds(
  wh: Warehouse,
  needs: readonly string[],
  slot: Date,
  hours: number,
  timeZone: string,
) {
  if (!needs.length) return [];
  const since = new Date(slot.getTime() - hours * 3_600_000);
  const last = await sql<{ feed: string; at: Date | null }>`
    SELECT f.feed, max(r.finished_at) AS at
    FROM unnest(${[...needs]}::text[]) AS f(feed)
    LEFT JOIN runs r ON r.kind = 'import' AND r.feed = f.feed AND r.status IN ('succeeded', 'noop')
    GROUP BY f.feed ORDER BY f.feed`.execute(wh.db);
  return last.rows
    .filter((r) => !r.at || r.at < since)
    .map((r) =>
      r.at
        ? `feed ${r.feed} last loaded ${formatLocal(timeZone, r.at)} (${timeZone}), more than ${hours} h before the slot`
        : `feed ${r.feed} has never loaded`,
    );
}

export async function executeJob(job: CountyJob, c: JobContext): Promise<JobResult> {
  const asOf = todayIn(c.config.timezone, c.slot);
  switch (job.kind) {
    case 'import': {
      const feed = resolveFeed(job.feed);
      const feedConfig = c.config.feeds[job.feed];
      const s = await importFeed({
        wh: c.wh,
        feed,
        feedConfig,
        ...(job.path ? { path: job.path } : { source: configuredSource(feed, feedConfig) }),
        log: c.log,
        today: asOf,
        timeZone: c.config.timezone,
        // The slot's own date: a job run late (a retry, a catch-up) still loads the data of its slot's day.
        dataDate: { date: asOf, from: 'job' },
      });
      return {
        status: 'succeeded',
        runIds: [s.runId],
        summary: `${job.feed}: ${s.status}, ${s.counts.rows_read} read, ${s.counts.rows_loaded} loaded`,
      };
    }
    case 'match': {
      const stale = await staleNeeds(c.wh, job.needs, c.slot, job.window_hours, c.config.timezone);
      if (stale.length) return { status: 'held', runIds: [], summary: stale.join('; ') };
      const outcomes = await runMatch({ wh: c.wh, config: c.config, log: c.log, asOf, rules: job.rules });
      return {
        status: 'succeeded',
        runIds: outcomes.flatMap((o) => (o.runId ? [o.runId] : [])),
        summary: outcomes.map((o) => `${o.rule} ${o.status}`).join(', '),
      };
    }
    case 'lists': {
      const files = await exportLists({
        wh: c.wh,
        outDir: join(c.config.paths.output_dir, 'lists'),
        asOf,
        log: c.log,
        department: job.department,
        actor: 'scheduler',
        timeZone: c.config.timezone,
      });
      return { status: 'succeeded', runIds: [], summary: `${files.length} list(s) written` };
    }
    case 'drop': {
      const results = await takeDrops({
        wh: c.wh,
        config: c.config,
        log: c.log,
        today: asOf,
        feed: job.feed,
      });
      const runIds = results.flatMap((r) => (r.runId ? [r.runId] : []));
      const failed = results.filter((r) => r.outcome === 'failed' || r.outcome === 'refused');
      const summary = `${results.length} file(s): ${DROP_OUTCOMES.map((o) => `${results.filter((r) => r.outcome === o).length} ${o}`).join(', ')}`;
      if (failed.length) {
        throw dataError(`${summary}; ${failed.map((f) => `${f.file}: ${f.message}`).join('; ')}`);
      }
      return { status: 'succeeded', runIds, summary };
    }
    case 'report': {
      // The report of the month before the slot's month: on 1 December, November's.
      const prev = previousMonth(asOf);
      const r = await writeMonthlyReport({
        wh: c.wh,
        config: c.config,
        month: prev,
        outDir: join(c.config.paths.output_dir, 'reports'),
        bureauCopy: true,
        actor: 'scheduler',
        now: c.slot,
      });
      return { status: 'succeeded', runIds: [], summary: `report ${prev}: ${r.path}` };
    }
    case 'retention': {
      // Counted back from the slot's day: a retention slot run late deletes what its day's schedule said.
      const r = await runRetention({ wh: c.wh, config: c.config, today: asOf, actor: 'scheduler' });
      return {
        status: 'succeeded',
        runIds: [],
        summary: `retention ${asOf}: ${r.categories.map((o) => `${o.count} ${o.category}`).join(', ')}`,
      };
    }
  }
}
