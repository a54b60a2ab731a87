/**
 * `ruralhub findings` (and `findings review`): the command and its help. What it runs is in ./findings.ts, loaded
 * when it runs — the help texts load neither the rules nor the warehouse (README, "Start-up").
 */
import type { Command } from 'commander';
import { FINDING_STATES } from '../../../schemas/vocabulary.ts';
import { FINDING_COLUMNS, FINDING_TABLE_COLUMNS, FINDINGS_TABLE_LIMIT } from '../finding-listing.ts';
import type { FindingsOpts } from './findings.ts';
import { registerReview } from './review.ts';

export function registerFindings(program: Command): void {
  const findings = program.command('findings');
  registerReview(findings);
  findings
    .description('list findings with their state; ID numbers are masked (first 4 + last 4) unless --full-ids')
    .option('-r, --rule <id...>', 'only these rules')
    .option('-d, --department <name>', 'only findings owned by this department')
    .option('-t, --township <name>', 'only this township')
    .option(
      '-s, --state <state>',
      `not_closed (default), all, or one of ${FINDING_STATES.join(', ')}`,
      'not_closed',
    )
    .option('--overdue', 'only findings past their deadline (as of --as-of)')
    .option('--format <format>', 'table, csv or json', 'table')
    .option(
      '--columns <a,b,c>',
      `table: the columns to show, in order (default ${FINDING_TABLE_COLUMNS.join(',')})`,
    )
    .option(
      '-n, --limit <n>',
      `table: how many findings (default ${FINDINGS_TABLE_LIMIT}); csv and json list all`,
    )
    .option('--full-ids', 'print full ID numbers (an authorized bureau export; written to the audit log)')
    .option(
      '--approval <id>',
      '--full-ids of more than approvals.findings_full_ids_max_rows rows (default 50): the approved request to use (ruralhub approvals request findings-full-ids …); used once',
    )
    .option('--as-of <date>', 'date for overdue days, YYYY-MM-DD (default: today)')
    .option(
      '--explain <id>',
      'one finding and where it came from: its events, each with the records behind it (file, sheet, row, load, data date)',
    )
    .addHelpText(
      'after',
      `
Columns: ${FINDING_COLUMNS.join(', ')}
The table shows details as 标签：值 (the rule's list headers); csv/json keep them as an object.

Example:
  $ ruralhub findings --rule R01 --format csv > r01.csv
  $ ruralhub findings --explain 1234
  $ ruralhub findings --rule R02 --full-ids --approval 7 --format csv > r02.csv   # more than 50 rows: approved first`,
    )
    .action(async (opts: FindingsOpts, cmd: Command) =>
      (await import('./findings.ts')).listFindings(opts, cmd),
    );
}
