import type { Command } from 'commander';
import { maskIdsInText } from '../../delivery/mask-text.ts';
import { listOptions, rowLimit } from '../list-options.ts';
import { parseFormat, writeRows } from '../output.ts';

const COLUMNS = [
  'run_id',
  'feed',
  'source',
  'sheet',
  'row_number',
  'field',
  'raw_value',
  'problem',
  'detail',
] as const;

const LIMIT = 200;

export function registerQuarantine(program: Command): void {
  const command = program
    .command('quarantine')
    .description('rejected values with file, row (as a spreadsheet shows it), field and reason')
    .option('--feed <feed>', 'only this feed')
    .option('--reason <code>', 'only this problem, e.g. id_bad_checksum')
    .option('--all-runs', "include values rejected by earlier runs (default: each feed's latest run only)");
  listOptions(command, { help: 'at most this many rows', default: LIMIT })
    .addHelpText(
      'after',
      '\nID-like raw values are masked (first 4 + last 4).\n\nExample:\n  $ ruralhub quarantine --feed student_roll --reason id_sci_notation',
    )
    .action(
      async (
        opts: { feed?: string; reason?: string; allRuns?: boolean; limit: string; format?: string },
        cmd: Command,
      ) => {
        const { makeContext, withWarehouse } = await import('../context.ts');
        const ctx = makeContext(cmd.optsWithGlobals());
        const format = parseFormat(opts.format);
        await withWarehouse(ctx, async (wh) => {
          let q = wh.db
            .selectFrom('quarantine as q')
            .select([
              'q.run_id',
              'q.feed',
              'q.source',
              'q.sheet',
              'q.row_number',
              'q.field',
              'q.raw_value',
              'q.problem',
              'q.detail',
            ])
            .orderBy('q.feed')
            .orderBy('q.run_id', 'desc')
            .orderBy('q.row_number')
            .limit(rowLimit(opts.limit, LIMIT));
          // A corrected file re-imported supersedes the old run's rejections.
          if (!opts.allRuns)
            q = q.innerJoin('feed_state as s', (j) =>
              j.onRef('s.feed', '=', 'q.feed').onRef('s.last_run_id', '=', 'q.run_id'),
            );
          if (opts.feed) q = q.where('q.feed', '=', opts.feed);
          if (opts.reason) q = q.where('q.problem', '=', opts.reason);
          const rows = await q.execute();
          const shown = rows.map((r) => ({
            ...r,
            raw_value: r.raw_value === null ? null : maskIdsInText(r.raw_value),
          }));
          writeRows(ctx.out, format, COLUMNS, shown);
        });
      },
    );
}
