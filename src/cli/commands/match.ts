import type { Command } from 'commander';
import { configError } from '../../../core/errors.ts';
import { RULE_IDS, type RuleId, RuleIdSchema } from '../../../pipelines/rules/index.ts';
import { runMatch } from '../../matching/run-match.ts';
import { asOfDate, makeContext, withWarehouse } from '../context.ts';
import { progress } from '../progress.ts';
import { matchTable } from '../summaries.ts';

export function parseRuleIds(ids: readonly string[] | undefined): RuleId[] | undefined {
  return ids?.map((id) => {
    const r = RuleIdSchema.safeParse(id.toUpperCase());
    if (!r.success) throw configError(`unknown rule '${id}'; rules are ${RULE_IDS[0]} … ${RULE_IDS.at(-1)}`);
    return r.data;
  });
}

export function registerMatch(program: Command): void {
  program
    .command('match')
    .description('run cross-match rules and update findings (new, still open, closed by data, reopened)')
    .option('-r, --rule <id...>', 'rules to run (default: all enabled)')
    .option(
      '--as-of <date>',
      'reference date for ages and windows, YYYY-MM-DD (default: today, Beijing time)',
    )
    .option('--force', 'run rules even when their inputs are unchanged since their last run')
    .addHelpText(
      'after',
      `
A rule whose required feeds were never loaded, or last loaded longer ago than matching.max_feed_age_days,
does not run, and closes nothing: the table says which feed. A rule whose inputs (loads, parameters,
reference date) are the same as at its last run is recorded as unchanged without running again.

Example:
  $ ruralhub match --rule R01 R02 --as-of 2026-11-24`,
    )
    .action(async (opts: { rule?: string[]; asOf?: string; force?: boolean }, cmd: Command) => {
      const ctx = makeContext(cmd.optsWithGlobals());
      const asOf = asOfDate(ctx, opts.asOf);
      const rules = parseRuleIds(opts.rule);
      await withWarehouse(ctx, async (wh) => {
        const bar = progress('match', ctx.log);
        const outcomes = await runMatch({
          wh,
          config: ctx.config,
          log: ctx.log,
          asOf,
          rules,
          force: opts.force === true,
          onRule: (o, done, total) => bar.update({ phase: `${o.rule} ${o.status}`, done, total }),
        }).finally(() => bar.end());
        ctx.out.write(`as of ${asOf}\n${matchTable(outcomes)}\n`);
      });
    });
}
