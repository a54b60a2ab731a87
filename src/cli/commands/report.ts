import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { todayIn } from '../../../core/clock.ts';
import { configError } from '../../../core/errors.ts';
import { previousMonth, writeMonthlyReport } from '../../reporting/run-report.ts';
import { makeContext, withWarehouse } from '../context.ts';

interface Opts {
  month?: string;
  out?: string;
  shared?: boolean;
}

export function registerReport(program: Command): void {
  const report = program.command('report').description('reports for the bureau');
  report
    .command('monthly')
    .description(
      'the monthly report: findings by rule, department, township and state; indicators per township',
    )
    .option('-m, --month <YYYY-MM>', 'the month (default: the previous month)')
    .option('-o, --out <file>', 'workbook to write (default: <paths.output_dir>/reports/月报-<month>.xlsx)')
    .option('--shared', 'a copy for outside the bureau: village-level counts below 5 are shown as "<5"')
    .addHelpText(
      'after',
      `
Counts are taken from the findings' history, so a past month's report can be produced again: state at
month end by rule × department × township; new, closed (by data / by review) and reopened in the month;
closure rate = closed ÷ (not closed at the start + new + reopened); overdue with days; the indicators of
DOMAIN §8 with target and status (达标/风险/未达标). The Markdown version goes to stdout.

Example:
  $ ruralhub report monthly --month 2026-11 --out 月报-2026-11.xlsx`,
    )
    .action(async (opts: Opts, cmd: Command) => {
      const ctx = makeContext(cmd.optsWithGlobals());
      const month = opts.month ?? previousMonth(todayIn(ctx.config.timezone));
      if (!/^[0-9]{4}-(0[1-9]|1[0-2])$/.test(month)) {
        throw configError(`--month: expected YYYY-MM, got '${month}'`);
      }
      const out = opts.out ? resolve(opts.out) : undefined;
      await withWarehouse(ctx, async (wh) => {
        const r = await writeMonthlyReport({
          wh,
          config: ctx.config,
          month,
          outDir: out ? dirname(out) : resolve(ctx.config.paths.output_dir, 'reports'),
          out,
          bureauCopy: !opts.shared,
          actor: process.env.USER ?? 'cli',
        });
        ctx.out.write(`${r.markdown}\n报告工作簿：${r.path}\n`);
      });
    });
}
