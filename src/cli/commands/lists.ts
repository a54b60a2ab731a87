import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DepartmentSchema } from '../../../schemas/vocab.ts';
import { exportLists } from '../../delivery/export-lists.ts';
import { configError } from '../../errors.ts';
import { asOfDate, makeContext, withWarehouse } from '../context.ts';
import { formatTable } from '../table.ts';

export function registerLists(program: Command): void {
  const lists = program.command('lists').description('department lists (问题清单) and their feedback');
  lists
    .command('export')
    .description(
      'write one Excel workbook per department with its open findings; exported items become "sent"',
    )
    .option('-d, --department <name>', 'only this department, e.g. 教育局')
    .option('-o, --out <dir>', 'output folder (default: <paths.output_dir>/lists)')
    .option('--as-of <date>', 'date printed on the lists and recorded as the sending date, YYYY-MM-DD')
    .addHelpText('after', '\nExample:\n  $ ruralhub lists export --department 教育局 --out ./lists')
    .action(async (opts: { department?: string; out?: string; asOf?: string }, cmd: Command) => {
      const ctx = makeContext(cmd.optsWithGlobals());
      if (opts.department && !DepartmentSchema.safeParse(opts.department).success) {
        throw configError(
          `unknown department '${opts.department}'; departments are: ${DepartmentSchema.options.join(', ')}`,
        );
      }
      const outDir = resolve(opts.out ?? `${ctx.config.paths.output_dir}/lists`);
      const asOf = asOfDate(ctx, opts.asOf);
      await withWarehouse(ctx, async (wh) => {
        const files = await exportLists({ wh, outDir, asOf, log: ctx.log, department: opts.department });
        if (!files.length) ctx.out.write('no open findings: no list written\n');
        else
          ctx.out.write(
            `${formatTable(
              ['department', 'items', 'file'],
              files.map((f) => [f.department, f.items, f.path]),
            )}\n`,
          );
      });
    });
}
