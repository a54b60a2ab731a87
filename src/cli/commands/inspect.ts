import type { Command } from 'commander';
import { todayIn } from '../../../core/clock.ts';
import type { SourceInspection } from '../../load/inspect-source.ts';
import { formatTable } from '../table.ts';

const sheetOf = (v: string | undefined) => (v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : v);

/** `check` and `discover`: for operators setting up a county's files; they read, never load. */
/** What `check` and `discover` both read: the file inspected as an import of the feed would read it. */
async function inspect(feedId: string, opts: { file: string; sheet?: string }, cmd: Command) {
  const [{ resolveFeed }, { inspectSource }, { makeContext }] = await Promise.all([
    import('../../../pipelines/feeds/resolve.ts'),
    import('../../load/inspect-source.ts'),
    import('../context.ts'),
  ]);
  const ctx = makeContext(cmd.optsWithGlobals());
  const feed = resolveFeed(feedId);
  const r = await inspectSource(
    feed,
    opts.file,
    ctx.config.feeds[feed.id],
    sheetOf(opts.sheet),
    todayIn(ctx.config.timezone),
  );
  return { ctx, feed, r };
}

export function registerInspect(program: Command): void {
  program
    .command('check <feed>')
    .description('can the file be opened, do its headers map to the feed, how many rows — without loading it')
    .requiredOption('-f, --file <path>', 'the department file (CSV/TSV, .xlsx, .xls/.et)')
    .option(
      '--sheet <name-or-index>',
      'workbook sheet (default: feeds.<feed>.sheet, else every visible sheet with the header)',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 the file would load, 3 it would not (the message says why).\n\nExample:\n  $ ruralhub check student_roll --file 学籍名册.xlsx',
    )
    .action(async (feedId: string, opts: { file: string; sheet?: string }, cmd: Command) => {
      const { ctx, r } = await inspect(feedId, opts, cmd);
      ctx.out.write(`${r.ok ? 'ok' : 'NOT OK'}: ${r.message}\n`);
      ctx.out.write(`  ${dataDateLine(r)}\n`);
      for (const s of r.sheets.filter((x) => x.unmapped.length)) {
        ctx.out.write(`  columns not read${s.sheet ? ` on '${s.sheet}'` : ''}: ${s.unmapped.join(', ')}\n`);
      }
      if (!r.ok) process.exitCode = 3;
    });

  program
    .command('discover <feed>')
    .description('the sheets, header rows and column mapping an import of this file would use')
    .requiredOption('-f, --file <path>', 'the department file (CSV/TSV, .xlsx, .xls/.et)')
    .option('--sheet <name-or-index>', 'only this sheet')
    .addHelpText('after', '\nExample:\n  $ ruralhub discover housing --file 危房改造台账.xlsx')
    .action(async (feedId: string, opts: { file: string; sheet?: string }, cmd: Command) => {
      const { ctx, feed, r } = await inspect(feedId, opts, cmd);
      for (const s of r.sheets) {
        ctx.out.write(
          `${s.sheet === null ? r.source : `sheet '${s.sheet}'`}: header on row ${s.headerRow ?? '?'}, ${s.rows} data rows, ` +
            `${s.skipped} blank, totals or footer rows skipped, ${s.problems} unreadable rows\n`,
        );
        ctx.out.write(
          `${formatTable(
            ['field', 'required', 'read from column'],
            Object.entries(s.mapping).map(([f, h]) => [
              f,
              feed.fields[f]?.required ? 'yes' : '',
              h ?? (feed.fields[f]?.required ? 'MISSING' : '—'),
            ]),
          )}\n`,
        );
        if (s.unmapped.length) ctx.out.write(`columns not read: ${s.unmapped.join(', ')}\n`);
        ctx.out.write('\n');
      }
      ctx.out.write(`${dataDateLine(r)}\n`);
      ctx.out.write(`${r.ok ? 'ok' : 'NOT OK'}: ${r.message}\n`);
      if (!r.ok) process.exitCode = 3;
    });
}

/** What an import would record as the file's data date, and where it was found. */
function dataDateLine(r: SourceInspection): string {
  if (!r.dataDate)
    return 'data date: none stated above the header (an import takes the load day, or --data-date)';
  if ('error' in r.dataDate) return `data date: ${r.dataDate.error}`;
  return `data date: ${r.dataDate.date} (${r.dataDate.where})`;
}
