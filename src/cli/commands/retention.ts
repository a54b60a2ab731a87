import type { Command } from 'commander';
import { isIsoDate, todayIn } from '../../../core/clock.ts';
import { configError } from '../../../core/errors.ts';
import { parseFormat, writeRows } from '../output.ts';

const COLUMNS = ['category', 'rule', 'count', 'details'] as const;

export function registerRetention(program: Command): void {
  const retention = program
    .command('retention')
    .description('delete what is older than the retention schedule (config `retention`; docs/privacy.md)');
  retention
    .command('run')
    .description(
      'delete (or with --dry-run count) old closed findings, ended versions, IDs, raw values, files',
    )
    .option('--dry-run', 'count what would be deleted; change nothing')
    .option('--as-of <date>', 'with --dry-run: count as on this day (YYYY-MM-DD; default today)')
    .option('--format <format>', 'table or json', 'table')
    .addHelpText(
      'after',
      `
Categories, each in its own transaction with an audit row of its counts (never an ID number):
  findings    closed findings older than their rule's retentionYears (retention.findings_years overrides),
              counted by rule, township and month into retired_finding_months, then deleted with events/lineage
  versions    feed versions ended more than retention.history_years ago (default 5), but those behind a
              finding that stays
  persons     ID numbers of persons on no list and in no finding for retention.lists_years (default 5)
              (the person's key stays)
  quarantine  raw values of quarantined rows older than retention.quarantine_days (default 180); rows kept
  drop_files  processed drop files loaded more than retention.drop_files_days ago (default 90)

Example:
  $ ruralhub retention run --dry-run --format json
  $ ruralhub retention run --dry-run --as-of 2027-01-01     # what January's run will delete`,
    )
    .action(async (opts: { dryRun?: boolean; asOf?: string; format?: string }, cmd: Command) => {
      const [{ planRetention, runRetention }, { makeContext, withWarehouse }] = await Promise.all([
        import('../../retention/retention.ts'),
        import('../context.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      const format = parseFormat(opts.format, ['table', 'json']);
      // A run deletes by today's schedule only: a date in the future would delete early what the law still keeps.
      if (opts.asOf && !opts.dryRun)
        throw configError('--as-of: only with --dry-run (a run deletes as of today)');
      if (opts.asOf && !isIsoDate(opts.asOf))
        throw configError(`--as-of: expected YYYY-MM-DD, got '${opts.asOf}'`);
      await withWarehouse(ctx, async (wh) => {
        const today = opts.asOf ?? todayIn(ctx.config.timezone);
        const p = { wh, config: ctx.config, today, actor: 'cli' };
        const outcome = opts.dryRun ? await planRetention(p) : await runRetention(p);
        if (format === 'json') {
          ctx.out.write(`${JSON.stringify(outcome, null, 2)}\n`);
          return;
        }
        writeRows(
          ctx.out,
          'table',
          COLUMNS,
          outcome.categories.map((c) => ({ ...c })),
        );
        ctx.out.write(
          `${outcome.dryRun ? 'dry run: nothing deleted' : 'deleted and audited'} (as of ${outcome.today})\n`,
        );
      });
    });
}
