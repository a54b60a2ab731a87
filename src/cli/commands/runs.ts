import type { Command } from 'commander';
import { formatLocal, isoLocal } from '../../../core/clock.ts';
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
Times: the county's (config timezone), YYYY-MM-DD HH:mm:ss; in csv/json ISO 8601 with its offset.

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
          const tz = ctx.config.timezone;
          // People read the county's time (seconds: two runs in one minute); files get ISO 8601 with its offset.
          const at = (d: Date | null) =>
            d === null ? null : format === 'table' ? formatLocal(tz, d, { seconds: true }) : isoLocal(tz, d);
          const shown = rows.map((r) => ({
            ...r,
            started_at: at(r.started_at),
            finished_at: at(r.finished_at),
          }));
          writeRows(
            ctx.out,
            format,
            format === 'table'
              ? COLUMNS.filter((c) => !['rows_unchanged', 'finished_at', 'data_date_from'].includes(c))
              : COLUMNS,
            shown,
          );
          if (format === 'table') ctx.out.write(`times in ${tz}\n`);
        });
      },
    );
}
