import type { Command } from 'commander';
import { todayIn } from '../../../core/clock.ts';
import { planRetention, runRetention } from '../../retention/retention.ts';
import { makeContext, withWarehouse } from '../context.ts';
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
    .option('--format <format>', 'table or json', 'table')
    .addHelpText(
      'after',
      `
Categories, each in its own transaction with an audit row of its counts (never an ID number):
  findings    closed findings older than their rule's retentionYears (retention.findings_years overrides),
              counted by rule, township and month into retired_finding_months, then deleted with events/lineage
  versions    feed versions ended more than retention.history_years ago (default 5)
  persons     ID numbers of persons on no list and in no finding for retention.lists_years (default 5)
  quarantine  raw values of quarantined rows older than retention.quarantine_days (default 180); rows kept
  drop_files  processed drop files loaded more than retention.drop_files_days ago (default 90)

Example:
  $ ruralhub retention run --dry-run --format json`,
    )
    .action(async (opts: { dryRun?: boolean; format?: string }, cmd: Command) => {
      const ctx = makeContext(cmd.optsWithGlobals());
      const format = parseFormat(opts.format, ['table', 'json']);
      await withWarehouse(ctx, async (wh) => {
        const p = { wh, config: ctx.config, today: todayIn(ctx.config.timezone), actor: 'cli' };
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
