import type { Command } from 'commander';
import { configuredSource, type ImportSummary, importFeed } from '../../load/import-feed.ts';
import { resolveFeed } from '../../load/resolve-feed.ts';
import { asOfDate, makeContext, withWarehouse } from '../context.ts';
import { progress } from '../progress.ts';
import { importTable, noteLines, problemLines } from '../summaries.ts';

export function registerImport(program: Command): void {
  program
    .command('import <feed>')
    .description(
      'load a department file into the warehouse (feed: roster, student_roll, home_schooling, insurance, …)',
    )
    .option(
      '-f, --file <path...>',
      'one or more files (CSV/TSV in UTF-8 or GB18030, or .xlsx), loaded in the order given; ' +
        'without it the database configured under feeds.<feed>.source is read',
    )
    .option(
      '--sheet <name-or-index>',
      'workbook sheet by name or 0-based index (default: feeds.<feed>.sheet, else the first)',
    )
    .option(
      '--confirm-shrink',
      'publish a snapshot even if it ends more records than the feed allows (max_shrink)',
    )
    .option('--force', 'load even if the file is identical to the last successful load')
    .option('--as-of <date>', 'reference date for ID checks (birth date in the future), YYYY-MM-DD')
    .addHelpText(
      'after',
      `
Each file is one run: rows are normalized, de-duplicated and published in one transaction; rejected
values go to quarantine (see \`ruralhub quarantine\`). Exit code 3 when a file cannot be loaded.

Example:
  $ ruralhub import student_roll --file 学籍名册.csv
  $ ruralhub import insurance --file 参保2025.csv 参保2026.csv
  $ ruralhub import housing --file 危房改造台账.xlsx --sheet 2026年
  $ ruralhub import deaths            # from feeds.deaths.source, e.g.
                                      #   { dialect: mysql, url_env: GA_DB_URL, table: death_reg,
                                      #     cursor: updated_at, key: [id] }`,
    )
    .action(
      async (
        feedId: string,
        opts: { file?: string[]; sheet?: string; confirmShrink?: boolean; force?: boolean; asOf?: string },
        cmd: Command,
      ) => {
        const ctx = makeContext(cmd.optsWithGlobals());
        const feed = resolveFeed(feedId);
        const today = asOfDate(ctx, opts.asOf);
        const configured = ctx.config.feeds[feed.id];
        // A sheet given as digits is an index; Chinese sheet names are never all digits.
        const sheet =
          opts.sheet === undefined
            ? configured?.sheet
            : /^\d+$/.test(opts.sheet)
              ? Number(opts.sheet)
              : opts.sheet;
        const feedConfig =
          configured || sheet !== undefined
            ? { header_aliases: {}, max_shrink: 0.3, ...configured, sheet }
            : undefined;
        await withWarehouse(ctx, async (wh) => {
          const done: ImportSummary[] = [];
          const sources = opts.file?.length
            ? opts.file.map((path) => ({ path }))
            : [{ source: configuredSource(feed, feedConfig) }];
          for (const from of sources) {
            const bar = progress(feed.id, ctx.log);
            done.push(
              await importFeed({
                onProgress: (u) => bar.update(u),
                wh,
                feed,
                feedConfig,
                ...from,
                log: ctx.log,
                today,
                timeZone: ctx.config.timezone,
                confirmShrink: opts.confirmShrink,
                force: opts.force,
              }).finally(() => bar.end()),
            );
          }
          ctx.out.write(`${importTable(done)}\n`);
          const problems = problemLines(done);
          if (problems.length)
            ctx.out.write(
              `rejected values (see \`ruralhub quarantine --feed ${feed.id}\`):\n${problems.join('\n')}\n`,
            );
          const notes = noteLines(done);
          if (notes.length) ctx.out.write(`${notes.join('\n')}\n`);
          if (done.some((d) => d.status === 'held')) process.exitCode = 3;
        });
      },
    );
}
