import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { isIsoDate } from '../../../core/clock.ts';
import { configError } from '../../../core/errors.ts';
import { hashFileInThread } from '../../load/file-hash-thread.ts';
import type { ImportSummary } from '../../load/import-feed.ts';
import { progress, watchedByPerson } from '../progress.ts';

/**
 * A mistyped --sheet is the operator's mistake, not a failure of the feed: it is checked before any run is
 * recorded (a failed run would turn `ruralhub status` red for a feed whose data is fine), and the error names
 * the sheets there are. Only the command line's sheet: a configured sheet missing from this month's file is the
 * department's change, and fails the run like any other file that is not as configured. A file that is missing
 * or cannot be opened is left to the import, which records and reports it in its own words.
 */
async function checkSheet(path: string, sheet: string | number): Promise<void> {
  if (!existsSync(path)) return;
  const [{ fileKindOf }, { pickSheet }] = await Promise.all([
    import('../../../connectors/registry.ts'),
    import('../../../connectors/workbook.ts'),
  ]);
  const kind = fileKindOf(path);
  if (!kind.workbook) return; // no sheets: the reader ignores --sheet, as it always has
  let sheets: { name: string; hidden?: boolean }[];
  try {
    sheets = await kind.connector.list({ path });
  } catch {
    return;
  }
  if (pickSheet(sheets, sheet) >= 0) return; // as the reader picks one
  const names = sheets.map((s, i) => `${i}: ${s.name}${s.hidden ? ' (hidden)' : ''}`);
  throw configError(
    `--sheet: ${basename(path)} has no sheet ${typeof sheet === 'number' ? `number ${sheet}` : `named '${sheet}'`}; its sheets are ${names.length ? names.join(', ') : 'none'}`,
  );
}

export function registerImport(program: Command): void {
  program
    .command('import <feed>')
    .description(
      'load a department file into the warehouse (feed: roster, student_roll, home_schooling, insurance, …)',
    )
    .option(
      '-f, --file <path...>',
      'one or more files (CSV/TSV in UTF-8 or GB18030, .xlsx, .xls/.et — told by their bytes), loaded in the order given; ' +
        'without it the database configured under feeds.<feed>.source is read',
    )
    .option(
      '--sheet <name-or-index>',
      'workbook sheet by name or 0-based index (default: feeds.<feed>.sheet, else every visible sheet with the header)',
    )
    .option(
      '--confirm-shrink',
      'publish a snapshot even if it ends more records than the feed allows (max_shrink)',
    )
    .option('--force', 'load even if the file is identical to the last successful load')
    .option(
      '--as-of <date>',
      "the load's day, YYYY-MM-DD: reference for ID checks, and the data date unless --data-date or the file states one",
    )
    .option(
      '--data-date <date>',
      'the date the data describes, YYYY-MM-DD (default: the date the file states above its header — 导出日期, 统计截至 … — else today)',
    )
    .addHelpText(
      'after',
      `
Each file is one run: rows are normalized, de-duplicated and published in one transaction; rejected
values go to quarantine (see \`ruralhub quarantine\`). Exit code 3 when a file cannot be loaded.

Example:
  $ ruralhub import student_roll --file 学籍名册.csv
  $ ruralhub import insurance --file 参保2025.csv 参保2026.csv
  $ ruralhub import housing --file 危房改造台账.xlsx --sheet 2026年
  $ ruralhub import insurance --file 参保.csv --data-date 2026-11-01
  $ ruralhub import deaths            # from feeds.deaths.source, e.g.
                                      #   { kind: sql, dialect: mysql, url_env: GA_DB_URL,
                                      #     table: death_reg, cursor: updated_at, key: [id] }`,
    )
    .action(
      async (
        feedId: string,
        opts: {
          file?: string[];
          sheet?: string;
          confirmShrink?: boolean;
          force?: boolean;
          asOf?: string;
          dataDate?: string;
        },
        cmd: Command,
      ) => {
        // The first file's hash on another thread while this one loads the loader and opens the warehouse.
        const earlySha = opts.file?.[0] !== undefined ? hashFileInThread(opts.file[0]) : undefined;
        const [
          { resolveFeed },
          { configuredSource, importFeed },
          { asOfDate, makeContext, withWarehouse },
          { feedLines, importTable, noteLines, problemLines },
        ] = await Promise.all([
          import('../../../pipelines/feeds/resolve.ts'),
          import('../../load/import-feed.ts'),
          import('../context.ts'),
          import('../summaries.ts'),
        ]);
        const globals = cmd.optsWithGlobals();
        const ctx = makeContext(globals);
        const person = watchedByPerson(ctx.log, globals);
        const feed = resolveFeed(feedId);
        const today = asOfDate(ctx, opts.asOf);
        if (opts.dataDate !== undefined && !isIsoDate(opts.dataDate))
          throw configError(`--data-date: expected a date as YYYY-MM-DD, got '${opts.dataDate}'`);
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
        if (opts.sheet !== undefined && sheet !== undefined)
          for (const path of opts.file ?? []) await checkSheet(path, sheet);
        await withWarehouse(ctx, async (wh) => {
          const done: ImportSummary[] = [];
          const sources = opts.file?.length
            ? opts.file.map((path) => ({ path }))
            : [{ source: configuredSource(feed, feedConfig) }];
          for (const [i, from] of sources.entries()) {
            const bar = progress(feed.id, ctx.log);
            const started = performance.now();
            const summary = await importFeed({
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
              ...(i === 0 && earlySha ? { earlySha } : {}),
              ...(opts.dataDate ? { dataDate: { date: opts.dataDate, from: 'flag' as const } } : {}),
            }).finally(() => bar.end());
            done.push(summary);
            // Beside the progress line, where the log would have been: stdout keeps only the table.
            if (person)
              process.stderr.write(`${feedLines(summary, performance.now() - started).join('\n')}\n`);
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
