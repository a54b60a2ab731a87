/**
 * One scheduler tick at time `now`: recover dead claims, claim the slots that came due (each by exactly one
 * scheduler, see claims.ts), claim retries and held suites whose time has come, and run what was claimed,
 * one job at a time. After a downtime only the latest missed slot of a job within scheduler.catch_up_hours
 * runs; the earlier ones are recorded as skipped (a second import of the same file, or a second match of the
 * same data, tells nobody anything) and slots older than the window are left alone.
 */

import { backoffSeconds } from '../../core/backoff.ts';
import { formatLocal, isoLocal } from '../../core/clock.ts';
import { BusyError, RuralHubError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { CountyConfig, CountyJob } from '../config/load-config.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import type { AlertSink } from './alerts.ts';
import { claimDue, claimNew, finishSlot, recoverDead, skipSlots } from './claims.ts';
import { executeJob } from './jobs.ts';
import { slotsBetween } from './slots.ts';

export interface TickParams {
  wh: Warehouse;
  config: Readonly<CountyConfig>;
  log: Logger;
  now: Date;
  /** This scheduler's session name (claims are recognised as dead by it). */
  me: string;
  alert: AlertSink;
  random?: () => number;
  /** Set when shutting down: nothing new is claimed or started. */
  signal?: AbortSignal;
  /** What running a job means; tests pass a stand-in to script faults. Default: executeJob. */
  execute?: typeof executeJob;
}

export interface SlotOutcome {
  job: string;
  slot: Date;
  attempt: number;
  status: 'succeeded' | 'retry' | 'failed' | 'held' | 'skipped';
  message: string;
}

/** Held suites are re-checked this often while their slot is inside the catch-up window. */
const HELD_RECHECK_MS = 15 * 60_000;
/** A tick looks back at least this far, so a slot is seen by the tick that follows it. */
const MIN_LOOKBACK_MS = 5 * 60_000;

export async function tick(p: TickParams): Promise<SlotOutcome[]> {
  const { wh, config, now } = p;
  const sc = config.scheduler;
  const recovered = await recoverDead(wh, now);
  if (recovered.slots || recovered.runs)
    p.log.warn(recovered, 'recovered work left running by a dead process');

  const claimed: { name: string; job: CountyJob; slot: Date; attempt: number }[] = [];
  const lookback = Math.max(sc.catch_up_hours * 3_600_000, MIN_LOOKBACK_MS);
  for (const [name, job] of Object.entries(sc.jobs)) {
    if (!job.enabled || p.signal?.aborted) continue;
    const due = slotsBetween(job.cron, new Date(now.getTime() - lookback), now, config.timezone);
    if (!due.length) continue;
    const known = await wh.db
      .selectFrom('job_slots')
      .select('slot')
      .where('job', '=', name)
      .where('slot', '>=', due[0]!)
      .execute();
    const seen = new Set(known.map((k) => k.slot.getTime()));
    const fresh = due.filter((d) => !seen.has(d.getTime()));
    const latest = fresh.at(-1);
    if (!latest) continue;
    if (await claimNew(wh, { job: name, slot: latest, kind: job.kind }, p.me, now)) {
      await skipSlots(
        wh,
        name,
        job.kind,
        fresh.slice(0, -1),
        `superseded by the slot of ${formatLocal(config.timezone, latest)} (${config.timezone})`,
        now,
      );
      claimed.push({ name, job, slot: latest, attempt: 1 });
    }
  }
  if (!p.signal?.aborted) {
    for (const r of await claimDue(wh, p.me, now)) {
      const job = sc.jobs[r.job];
      if (job) claimed.push({ name: r.job, job, slot: r.slot, attempt: r.attempts });
      else
        await finishSlot(wh, r, 'failed', { error: `job ${r.job} is no longer in the configuration`, now });
    }
  }

  const out: SlotOutcome[] = [];
  for (const c of claimed) out.push(await runClaimed(p, c.name, c.job, c.slot, c.attempt));
  return out;
}

/** Runs one claimed slot and records its outcome: the retry policy lives here. */
export async function runClaimed(
  p: TickParams,
  name: string,
  job: CountyJob,
  slot: Date,
  attempt: number,
): Promise<SlotOutcome> {
  const { wh, config, now } = p;
  const sc = config.scheduler;
  const key = { job: name, slot };
  const maxAttempts = job.max_attempts ?? sc.max_attempts;
  const log = p.log.child({ job: name, slot: isoLocal(config.timezone, slot), attempt });
  const done = async (
    status: SlotOutcome['status'],
    message: string,
    extra: Parameters<typeof finishSlot>[3],
  ) => {
    await finishSlot(wh, key, status, { ...extra, error: status === 'succeeded' ? null : message });
    if (status === 'failed')
      await p.alert({ job: name, slot: isoLocal(config.timezone, slot), status, message });
    return { job: name, slot, attempt, status, message };
  };
  if (attempt > maxAttempts) return done('failed', `attempt limit (${maxAttempts}) reached`, { now });
  log.info(`job ${name} (${job.kind}) starting`);
  try {
    const r = await (p.execute ?? executeJob)(job, { wh, config, log, slot });
    if (r.status === 'held') {
      const windowEnd = slot.getTime() + sc.catch_up_hours * 3_600_000;
      const next = now.getTime() + HELD_RECHECK_MS;
      if (next > windowEnd)
        return done('failed', `held until the catch-up window closed: ${r.summary}`, { now });
      const first = await firstHold(wh, key);
      const outcome = await done('held', r.summary, { now, nextAttemptAt: new Date(next) });
      if (first)
        await p.alert({
          job: name,
          slot: isoLocal(config.timezone, slot),
          status: 'held',
          message: r.summary,
        });
      return outcome;
    }
    log.info(`job ${name} succeeded: ${r.summary}`);
    return done('succeeded', r.summary, { now, runIds: r.runIds });
  } catch (err) {
    const message =
      err instanceof RuralHubError ? err.message : `unexpected: ${(err as Error)?.message ?? err}`;
    if (err instanceof BusyError) return done('skipped', message, { now });
    if (err instanceof RuralHubError && err.kind === 'transient' && attempt < maxAttempts) {
      const wait = backoffSeconds(
        attempt,
        { baseSeconds: sc.backoff_base_seconds, maxSeconds: sc.backoff_max_seconds },
        p.random,
      );
      log.warn(`job ${name} attempt ${attempt} failed (${message}); retrying in ${Math.round(wait)} s`);
      return done('retry', message, { now, nextAttemptAt: new Date(now.getTime() + wait * 1000) });
    }
    return done('failed', message, { now });
  }
}

/** True when the slot has not been held before (the operator is told once, not every 15 minutes). */
async function firstHold(wh: Warehouse, key: { job: string; slot: Date }): Promise<boolean> {
  const r = await wh.db
    .selectFrom('job_slots')
    .select('error')
    .where('job', '=', key.job)
    .where('slot', '=', key.slot)
    .executeTakeFirst();
  return !r?.error;
}
