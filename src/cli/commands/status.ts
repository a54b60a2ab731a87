import type { Command } from 'commander';
import { formatLocal } from '../../../core/clock.ts';
import { parseFormat, writeRows } from '../output.ts';

const FEED_COLUMNS = [
  'feed',
  'verdict',
  'last_success',
  'age_days',
  'max_age_days',
  'rows',
  'last_load',
  'next_scheduled',
  'last_failure',
  'failure',
] as const;
const RULE_COLUMNS = ['rule', 'enabled', 'last_run', 'last_status', 'open', 'overdue'] as const;
const JOB_COLUMNS = ['job', 'kind', 'last_slot', 'status', 'attempts', 'next_slot', 'message'] as const;
/** A load's counts as the table shows them: "0 of 2 kept, 2 quarantined"; '' before the first load. */
const loadCounts = (l: { read: number; loaded: number; quarantined: number } | null) =>
  l === null ? '' : `${l.loaded} of ${l.read} kept${l.quarantined ? `, ${l.quarantined} quarantined` : ''}`;

/** The named time fields of rows as a person reads them (JSON keeps ISO 8601 with the zone's offset). */
function localTimes<T extends object>(rows: readonly T[], fields: readonly string[], timeZone: string) {
  return rows.map((r) => {
    const o = { ...r } as Record<string, unknown>;
    for (const f of fields)
      if (typeof o[f] === 'string') o[f] = formatLocal(timeZone, new Date(o[f] as string));
    return o;
  });
}

const SERVER_COLUMNS = ['setting', 'value', 'recommended', 'ok'] as const;

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('health of every feed, rule and scheduled job; exits 1 when anything is stale or failing')
    .option('--format <format>', 'table or json', 'table')
    .addHelpText(
      'after',
      `
Times are the county's (config timezone) as YYYY-MM-DD HH:mm; --format json gives ISO 8601 with its offset.

Feed verdicts: ok · stale (last load older than matching.max_feed_age_days or its per-feed limit) ·
failing (its last import failed) · held (a snapshot held by the shrink guard) · nothing_kept (its last load
read rows and kept none: all quarantined, see \`ruralhub quarantine --feed F\`) · missing (never loaded, but an
enabled rule needs it) · not_configured (never loaded, not needed). last_load: the last load's rows kept of
those read, and how many were quarantined.

Server settings below a warehouse's (shared_buffers and max_wal_size below the embedded server's;
wal_compression other than the best method the server was built with: zstd, then lz4, then on) are listed
as advice; they do not change the exit code.

Exit codes: 0 everything ok; 1 a feed is stale, failing, held, nothing_kept or missing, a rule's last run failed, or a
scheduled job's latest slot failed or is held — suitable for a monitoring probe; 2 configuration error;
75 the warehouse cannot be reached.

Example:
  $ ruralhub status || notify-operator`,
    )
    .action(async (opts: { format?: string }, cmd: Command) => {
      const [{ collectStatus }, { makeContext, withWarehouse }] = await Promise.all([
        import('../../scheduler/status.ts'),
        import('../context.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      const format = parseFormat(opts.format, ['table', 'json']);
      await withWarehouse(ctx, async (wh) => {
        const s = await collectStatus(wh, ctx.config, new Date());
        if (format === 'json') ctx.out.write(`${JSON.stringify(s, null, 2)}\n`);
        else {
          const tz = ctx.config.timezone;
          ctx.out.write('Feeds\n');
          writeRows(
            ctx.out,
            'table',
            FEED_COLUMNS,
            localTimes(
              s.feeds.map((f) => ({ ...f, last_load: loadCounts(f.last_load) })),
              ['last_success', 'next_scheduled', 'last_failure'],
              tz,
            ),
          );
          ctx.out.write('\nRules\n');
          writeRows(ctx.out, 'table', RULE_COLUMNS, localTimes(s.rules, ['last_run'], tz));
          if (s.jobs.length) {
            ctx.out.write('\nScheduled jobs\n');
            writeRows(ctx.out, 'table', JOB_COLUMNS, localTimes(s.jobs, ['last_slot', 'next_slot'], tz));
          }
          const low = s.server.filter((x) => !x.ok);
          if (low.length) {
            // Advice, not a failure: loads work with PostgreSQL's defaults, only slower.
            ctx.out.write(
              '\nServer settings below a warehouse\'s (loads run slower; see README, "Your own PostgreSQL")\n',
            );
            writeRows(ctx.out, 'table', SERVER_COLUMNS, low as unknown as Record<string, unknown>[]);
          }
          ctx.out.write(
            `\ntimes in ${tz}\n${s.healthy ? 'all healthy' : 'ATTENTION: something is stale, failing, held or kept nothing'}\n`,
          );
        }
        if (!s.healthy) process.exitCode = 1;
      });
    });
}
