import type { Command } from 'commander';
import type { FieldSpec } from '../../../schemas/feed.ts';
import { listOptions, rowLimit } from '../list-options.ts';
import { parseFormat, writeRows } from '../output.ts';

/**
 * One line per rejected value: file, sheet, row, the column as the file headed it (`header`; `field` is the
 * feed's name for it, the one config keys use), the raw value masked where it may be an ID, the problem code and
 * what was expected (`detail`).
 */
const COLUMNS = [
  'run_id',
  'feed',
  'source',
  'sheet',
  'row_number',
  'field',
  'header',
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
      '\nheader is the column as the file headed it; detail says what was expected (the accepted values of a closed\nvocabulary, a day its month does not have …). ID-like raw values are masked (first 4 + last 4; of a number in\nscientific notation, the first 4 digits).\n\nExample:\n  $ ruralhub quarantine --feed student_roll --reason id_sci_notation',
    )
    .action(
      async (
        opts: { feed?: string; reason?: string; allRuns?: boolean; limit: string; format?: string },
        cmd: Command,
      ) => {
        const [{ makeContext, withWarehouse }, { countyFeed, resolveFeed }, { isFeedId }, display, { sql }] =
          await Promise.all([
            import('../context.ts'),
            import('../../../pipelines/feeds/resolve.ts'),
            import('../../../pipelines/feeds/index.ts'),
            import('./quarantine-display.ts'),
            import('kysely'),
          ]);
        const ctx = makeContext(cmd.optsWithGlobals());
        /** The field's declaration as this county reads the feed (its extra value spellings included). */
        const specOf = (feed: string, field: string | null): FieldSpec | undefined => {
          if (field === null || !isFeedId(feed)) return undefined;
          return countyFeed(resolveFeed(feed), ctx.config.feeds[feed]).fields[field];
        };
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
              // The header cell as the file spelled it, kept with the run since the mapping was recorded.
              sql<string | null>`r.details -> 'headers' ->> q.field`.as('file_header'),
            ])
            .leftJoin('runs as r', 'r.id', 'q.run_id')
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
          const shown = rows.map(({ file_header, ...r }) =>
            display.quarantineLine(r, specOf(r.feed, r.field), file_header),
          );
          writeRows(ctx.out, format, COLUMNS, shown);
        });
      },
    );
}
