import type { Command } from 'commander';
import { formatTable } from '../table.ts';

export function registerDrop(program: Command): void {
  program
    .command('drop')
    .description(
      'take the complete files waiting in the drop folders (drop.root/drop.folders) and import them',
    )
    .option('--feed <feed>', 'only this feed’s folder')
    .option(
      '--as-of <date>',
      "the load's day, YYYY-MM-DD (default: today): reference for ID checks and the files' data date",
    )
    .addHelpText(
      'after',
      `
A file is taken when a <name>.done marker sits next to it, or when it has not changed for drop.stable_seconds.
Loaded files and duplicates of files already loaded (same SHA-256) move to <folder>/processed/, files that
cannot be loaded to <folder>/failed/; a busy feed or an unreachable database leaves the file for the next pass.
Links are never followed; nothing outside drop.root is read. Exit 3 when a file failed or was refused.

Example config:
  drop:
    root: /srv/ruralhub/drop
    folders: { roster: 乡村振兴局/名册, student_roll: 教育局/学籍 }

Example:
  $ ruralhub drop --feed student_roll`,
    )
    .action(async (opts: { feed?: string; asOf?: string }, cmd: Command) => {
      const [{ resolveFeed }, { takeDrops }, { asOfDate, makeContext, withWarehouse }] = await Promise.all([
        import('../../../pipelines/feeds/resolve.ts'),
        import('../../drop/take-drops.ts'),
        import('../context.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      const feed = opts.feed ? resolveFeed(opts.feed).id : undefined;
      const today = asOfDate(ctx, opts.asOf);
      await withWarehouse(ctx, async (wh) => {
        const results = await takeDrops({ wh, config: ctx.config, log: ctx.log, today, feed });
        ctx.out.write(
          results.length
            ? `${formatTable(
                ['feed', 'file', 'outcome', 'message'],
                results.map((r) => [r.feed, r.file, r.outcome, r.message]),
              )}\n`
            : 'no files waiting\n',
        );
        if (results.some((r) => r.outcome === 'failed' || r.outcome === 'refused')) process.exitCode = 3;
      });
    });
}
