import type { Command } from 'commander';
import { RUN_COLUMNS } from '../../warehouse/ledger.ts';
import { makeContext, withWarehouse } from '../context.ts';
import { listOptions, rowLimit } from '../list-options.ts';
import { parseFormat, writeRows } from '../output.ts';

const COLUMNS = RUN_COLUMNS;
const LIMIT = 20;

export function registerRuns(program: Command): void {
  const command = program
    .command('runs')
    .description('the run ledger: one row per import, match and export run, newest first')
    .option('--feed <feed>', 'only runs of this feed')
    .option('--failed', 'only failed runs');
  listOptions(command, { help: 'how many runs', default: LIMIT })
    .addHelpText(
      'after',
      `
For every import: rows_read = rows_loaded + rows_quarantined + exact_duplicates + conflicting_duplicates
(the database refuses to record a run for which it does not hold).

Example:
  $ ruralhub runs --feed roster --format json | jq '.[0].rows_quarantined'`,
    )
    .action(
      async (opts: { feed?: string; failed?: boolean; limit: string; format?: string }, cmd: Command) => {
        const ctx = makeContext(cmd.optsWithGlobals());
        const format = parseFormat(opts.format);
        await withWarehouse(ctx, async (wh) => {
          let q = wh.db
            .selectFrom('runs')
            .select(COLUMNS)
            .orderBy('id', 'desc')
            .limit(rowLimit(opts.limit, LIMIT));
          if (opts.feed) q = q.where('feed', '=', opts.feed);
          if (opts.failed) q = q.where('status', '=', 'failed');
          const rows = await q.execute();
          const shown =
            format === 'table'
              ? rows.map((r) => ({
                  ...r,
                  started_at: r.started_at.toISOString().slice(0, 19),
                  finished_at: r.finished_at?.toISOString().slice(0, 19),
                }))
              : rows;
          writeRows(
            ctx.out,
            format,
            format === 'table'
              ? COLUMNS.filter((c) => !['rows_unchanged', 'finished_at', 'data_date_from'].includes(c))
              : COLUMNS,
            shown,
          );
        });
      },
    );
}
