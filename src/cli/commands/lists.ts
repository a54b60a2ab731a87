import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { configError } from '../../../core/errors.ts';
import { DEPARTMENTS, type Department, LIST_FORMATS, type ListFormat } from '../../../schemas/vocabulary.ts';
import { formatTable } from '../table.ts';
import { parseRuleIds } from './match.ts';

function parseDepartment(name: string | undefined): Department | undefined {
  if (name === undefined) return undefined;
  // The list, not its zod enum (schemas/vocab.ts): the same test, without loading zod at every start.
  if (!(DEPARTMENTS as readonly string[]).includes(name)) {
    throw configError(`unknown department '${name}'; departments are: ${DEPARTMENTS.join(', ')}`);
  }
  return name as Department;
}

interface ExportOpts {
  department?: string;
  rule?: string[];
  format?: string;
  out?: string;
  asOf?: string;
}

interface FeedbackOpts {
  department?: string;
  out?: string;
  asOf?: string;
}

export function registerLists(program: Command): void {
  const lists = program.command('lists').description('department lists (问题清单) and their feedback');
  lists
    .command('export')
    .description(
      'write one Excel workbook per department with its open findings; exported items become "sent"',
    )
    .option('-d, --department <name>', 'only this department, e.g. 教育局')
    .option('-r, --rule <id...>', 'only these rules')
    .option(
      '--format <format>',
      `${LIST_FORMATS.join(' or ')} (csv: one UTF-8 file with BOM per rule)`,
      'xlsx',
    )
    .option('-o, --out <dir>', 'output folder (default: <paths.output_dir>/lists)')
    .option('--as-of <date>', 'date printed on the lists and recorded as the sending date, YYYY-MM-DD')
    .addHelpText(
      'after',
      `
Each workbook has a cover sheet (department, list version, counts, purpose) and one sheet per rule with the
rule's disclosed fields, 清单编号 (the stable item id), first found, deadline, days overdue and the answer
columns 核实结果 (drop-down) / 说明 / 整改日期. Full ID numbers appear only in the owner department's list.

Example:
  $ ruralhub lists export --department 教育局 --out ./lists`,
    )
    .action(async (opts: ExportOpts, cmd: Command) => {
      const [{ exportLists }, { asOfDate, makeContext, withWarehouse }] = await Promise.all([
        import('../../delivery/export-lists.ts'),
        import('../context.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      const department = parseDepartment(opts.department);
      const rules = await parseRuleIds(opts.rule);
      const format = (opts.format ?? 'xlsx') as ListFormat;
      if (!LIST_FORMATS.includes(format)) {
        throw configError(`--format: expected ${LIST_FORMATS.join(' or ')}, got '${opts.format}'`);
      }
      const outDir = resolve(opts.out ?? `${ctx.config.paths.output_dir}/lists`);
      const asOf = asOfDate(ctx, opts.asOf);
      await withWarehouse(ctx, async (wh) => {
        const files = await exportLists({
          wh,
          outDir,
          asOf,
          log: ctx.log,
          department,
          rules,
          format,
          timeZone: ctx.config.timezone,
        });
        if (!files.length) ctx.out.write('no open findings: no list written\n');
        else
          ctx.out.write(
            `${formatTable(
              ['department', 'version', 'items', 'file'],
              files.map((f) => [f.department, f.version, f.items, f.paths.join('\n')]),
            )}\n`,
          );
      });
    });

  lists
    .command('feedback')
    .description("apply a department's answers from a returned list (xlsx or csv)")
    .argument('<file...>', 'returned workbooks or CSV files')
    .option(
      '-d, --department <name>',
      'the answering department (needed when the file has no cover sheet naming it)',
    )
    .option('-o, --out <dir>', 'folder for error workbooks (default: <paths.output_dir>/feedback)')
    .option('--as-of <date>', 'date the answers are recorded on, YYYY-MM-DD (default: today)')
    .addHelpText(
      'after',
      `
Items are found by 清单编号, or on a sheet of the department's own by 规则编号 + 身份证号 (户编号 or the
head's ID for household rules). Answers: 已整改 / 核实不属实 (needs a reason in 说明) / 整改中, with an
optional 整改日期. Rows may be re-sorted and other columns deleted. Every invalid row is reported with sheet,
row and problem and written to an error workbook the department can correct and send back; valid rows are
applied. Importing the same file twice changes nothing.

Exit codes: 0 all rows applied, 3 some rows were rejected (see the error workbook).

Example:
  $ ruralhub lists feedback 教育局-问题清单-2026-11-24.xlsx`,
    )
    .action(async (files: string[], opts: FeedbackOpts, cmd: Command) => {
      const [{ importFeedback }, { asOfDate, makeContext, withWarehouse }] = await Promise.all([
        import('../../delivery/import-feedback.ts'),
        import('../context.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      const department = parseDepartment(opts.department);
      const asOf = asOfDate(ctx, opts.asOf);
      const outDir = resolve(opts.out ?? `${ctx.config.paths.output_dir}/feedback`);
      for (const f of files) if (!existsSync(f)) throw configError(`input file not found: ${f}`);
      await withWarehouse(ctx, async (wh) => {
        await mkdir(outDir, { recursive: true });
        let rejected = 0;
        for (const file of files) {
          const o = await importFeedback({ wh, file: resolve(file), department, asOf, outDir, log: ctx.log });
          rejected += o.errors.length;
          ctx.out.write(
            `${o.source} (${o.department}): ${o.answered} answered, ${o.applied} applied, ${o.unchanged} unchanged, ` +
              `${o.errors.length} rejected, ${o.unanswered} not answered yet\n`,
          );
          for (const e of o.errors) {
            ctx.out.write(
              // The message names its row and column itself (第N行 列：…)
              `  ${e.sheet ? `工作表"${e.sheet}" ` : ''}${e.message}\n`,
            );
          }
          if (o.errorFile) ctx.out.write(`  rejected rows to correct and send back: ${o.errorFile}\n`);
        }
        if (rejected) process.exitCode = 3;
      });
    });
}
