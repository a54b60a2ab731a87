import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { todayIn } from '../../../core/clock.ts';
import { configError } from '../../../core/errors.ts';

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
    .option(
      '-m, --month <YYYY-MM>',
      'the month (default: the current month when a finding moved in it, else the previous month)',
    )
    .option('-o, --out <file>', 'workbook to write (default: <paths.output_dir>/reports/月报-<month>.xlsx)')
    .option('--shared', 'a copy for outside the bureau: village-level counts below 5 are shown as "<5"')
    .addHelpText(
      'after',
      `
Counts are taken from the findings' history, so a past month's report can be produced again. A past month
is counted at its last day, the current month at today (overdue = deadline before that day, as in
\`status\`): state by rule × department × township; new, closed (by data / by review) and reopened in the month;
closure rate = closed ÷ (not closed at the start + new + reopened); overdue with days; the indicators of
DOMAIN §8 with target and status (达标/风险/未达标) — an indicator whose rule's feeds have no load describing
the cut-off is shown as 无数据 (no figures, rate 未计算) with a note naming them; two charts (sheet 图表). Beside the workbook it writes
the Word 月通报 <county>-<month>-月通报.docx (village counts below 5 always shown as "<5"). The Markdown
version goes to stdout.

Example:
  $ ruralhub report monthly --month 2026-11 --out 月报-2026-11.xlsx`,
    )
    .action(async (opts: Opts, cmd: Command) => {
      const [{ defaultReportMonth }, { writeMonthlyReport }, { makeContext, withWarehouse }] =
        await Promise.all([
          import('../../reporting/monthly-report.ts'),
          import('../../reporting/run-report.ts'),
          import('../context.ts'),
        ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      if (opts.month !== undefined && !/^[0-9]{4}-(0[1-9]|1[0-2])$/.test(opts.month)) {
        throw configError(`--month: expected YYYY-MM, got '${opts.month}'`);
      }
      const out = opts.out ? resolve(opts.out) : undefined;
      await withWarehouse(ctx, async (wh) => {
        const now = new Date();
        const month = opts.month ?? (await defaultReportMonth(wh, todayIn(ctx.config.timezone, now)));
        const r = await writeMonthlyReport({
          wh,
          config: ctx.config,
          month,
          outDir: out ? dirname(out) : resolve(ctx.config.paths.output_dir, 'reports'),
          out,
          bureauCopy: !opts.shared,
          actor: process.env.USER ?? 'cli',
          now,
        });
        ctx.out.write(`${r.markdown}\n报告工作簿：${r.path}\n月通报：${r.docxPath}\n`);
      });
    });
}
