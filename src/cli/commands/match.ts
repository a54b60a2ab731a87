import type { Command } from 'commander';
import { configError } from '../../../core/errors.ts';
import type { RuleId } from '../../../pipelines/rules/index.ts';
import type { BackfillCounts } from '../../matching/backfill.ts';
import type { DryRunFinding, RuleOutcome } from '../../matching/run-match.ts';
import { maskIdNumber, maskIdNumberFields } from '../../normalize/mask.ts';
import type { Warehouse } from '../../warehouse/connect.ts';
import type { Context } from '../context.ts';
import { FINDING_SUBJECT_COLUMNS } from '../finding-listing.ts';
import { type Format, parseFormat, writeRows } from '../output.ts';
import { progress } from '../progress.ts';

/**
 * The rules named by --rule, checked against the catalog. Async: the catalog (every rule, kysely, zod) is loaded
 * by an action that needs it, not by the help texts of the commands that import this (README, "Start-up").
 */
export async function parseRuleIds(ids: readonly string[] | undefined): Promise<RuleId[] | undefined> {
  if (ids === undefined) return undefined;
  const { RULE_IDS, RuleIdSchema } = await import('../../../pipelines/rules/index.ts');
  return ids.map((id) => {
    const r = RuleIdSchema.safeParse(id.toUpperCase());
    if (!r.success) throw configError(`unknown rule '${id}'; rules are ${RULE_IDS[0]} … ${RULE_IDS.at(-1)}`);
    return r.data;
  });
}

/** The columns of `match --dry-run --format csv|json`: what the run would do, then the finding as `findings` shows it. */
export const DRY_RUN_COLUMNS = ['action', 'id', ...FINDING_SUBJECT_COLUMNS, 'deadline', 'details'] as const;

/** The columns of a dry-run backfill (`--from/--to`): counts per date and rule, never a person. */
export const BACKFILL_COLUMNS = [
  'as_of',
  'rule',
  'status',
  'population',
  'open',
  'new',
  'keep',
  'close',
  'reopen',
  'ms',
] as const;

interface Opts {
  rule?: string[];
  asOf?: string;
  from?: string;
  to?: string;
  every?: string;
  force?: boolean;
  dryRun?: boolean;
  format?: string;
  fullIds?: boolean;
  department?: string;
  township?: string;
}

/** A dry run's finding as the CLI prints it: IDs masked (first 4 + last 4) unless `fullIds`, as `findings` does. */
function shownFinding(f: DryRunFinding, fullIds: boolean) {
  const raw = (f.details ?? {}) as Record<string, unknown>;
  const src = raw as { file?: unknown; row?: unknown };
  return {
    action: f.action,
    id: f.id,
    rule: f.rule,
    owner: f.department,
    subject_kind: f.subject_kind,
    id_number: f.id_number && !fullIds ? maskIdNumber(f.id_number) : f.id_number,
    household_id: f.household_id,
    source_file: typeof src.file === 'string' ? src.file : null,
    source_row: typeof src.row === 'number' ? src.row : null,
    name: f.name,
    township: f.township,
    village: f.village,
    state: f.state,
    deadline: f.deadline,
    details: fullIds ? { ...raw } : maskIdNumberFields(raw),
  };
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
    .option(
      '--dry-run',
      'compute what the match would do (new, kept open, closed, reopened) and change nothing',
    )
    .option(
      '--format <format>',
      'with --dry-run: table (counts per rule), csv or json (the findings)',
      'table',
    )
    .option(
      '--from <date>',
      'with --dry-run and --to: a backfill, one dry run per date from this date (YYYY-MM-DD)',
    )
    .option('--to <date>', 'with --dry-run and --from: …to this date')
    .option(
      '--every <step>',
      'with --from/--to: day, week or month (the 1st of each month); default day up to 31 dates, else month',
    )
    .option('--full-ids', 'with --dry-run: print full ID numbers (written to the audit log)')
    .option('-d, --department <name>', 'with --dry-run: list only findings owned by this department')
    .option('-t, --township <name>', 'with --dry-run: list only findings of this township')
    .addHelpText(
      'after',
      `
A rule whose required feeds were never loaded, or last loaded longer ago than matching.max_feed_age_days,
does not run, and closes nothing: the table says which feed. A rule whose inputs (loads, parameters,
reference date) are the same as at its last run is recorded as unchanged without running again.

--dry-run computes each rule as the match would (same rules, parameters and feed checks), reads what it
would do, and rolls it back: no finding, event, deadline, list or run-ledger row changes. --format csv|json
lists the findings it would open (new), keep, close and reopen, IDs masked unless --full-ids.

--from D1 --to D2 --dry-run is a backfill: the dry run at each date from D1 to D2 (every day up to 31 dates,
else the 1st of each month; --every day|week|month; at most 400 dates), each compared with the findings as
they stand now. It prints counts only, per date and rule: open (new + keep + reopen), new, keep, close, reopen.
There is no real backfill: it would close, reopen and re-date the live lists date after date.

Examples:
  $ ruralhub match --rule R01 R02 --as-of 2026-11-24
  $ ruralhub match --dry-run --as-of 2026-12-01 --format csv > what-if.csv
  $ ruralhub match --dry-run --from 2026-01-01 --to 2026-12-01 --rule R01 --format csv > by-month.csv`,
    )
    .action(async (opts: Opts, cmd: Command) => {
      const [{ runMatch }, { asOfDate, makeContext, withWarehouse }, { matchTable }] = await Promise.all([
        import('../../matching/run-match.ts'),
        import('../context.ts'),
        import('../summaries.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      if (opts.from !== undefined || opts.to !== undefined || opts.every !== undefined) {
        await runBackfill(ctx, opts);
        return;
      }
      const asOf = asOfDate(ctx, opts.asOf);
      const rules = await parseRuleIds(opts.rule);
      const format = parseFormat(opts.format);
      const listing = opts.fullIds || opts.department || opts.township || format !== 'table';
      if (listing && !opts.dryRun) {
        throw configError('--format, --full-ids, --department and --township go with --dry-run');
      }
      await withWarehouse(ctx, async (wh) => {
        const bar = progress('match', ctx.log);
        const outcomes = await runMatch({
          wh,
          config: ctx.config,
          log: ctx.log,
          asOf,
          rules,
          force: opts.force === true,
          dryRun: opts.dryRun === true,
          onRule: (o, done, total) => bar.update({ phase: `${o.rule} ${o.status}`, done, total }),
        }).finally(() => bar.end());
        if (!opts.dryRun) {
          ctx.out.write(`as of ${asOf}\n${matchTable(outcomes)}\n`);
          return;
        }
        if (format === 'table') {
          ctx.out.write(`dry run as of ${asOf}: nothing was changed\n${matchTable(outcomes)}\n`);
          return;
        }
        await writeDryRunFindings(ctx.out, wh, outcomes, { ...opts, format, rules, asOf });
      });
    });
}

/**
 * `match --from D1 --to D2 --dry-run`: the dry run at each date, counts per date and rule. The refusals come
 * before the warehouse is opened: a misuse costs nothing and changes nothing.
 */
async function runBackfill(ctx: Context, opts: Opts): Promise<void> {
  if (opts.from === undefined || opts.to === undefined) {
    throw configError('--from and --to go together (and --every with them): the range of dates to backfill');
  }
  if (!opts.dryRun) {
    throw configError(
      "--from/--to need --dry-run: a real backfill would close, reopen and re-date the live findings (and the departments' lists) date after date, so only a dry run is offered",
    );
  }
  if (opts.asOf !== undefined) {
    throw configError(
      '--as-of and --from/--to exclude each other: a backfill takes its dates from the range',
    );
  }
  if (opts.fullIds)
    throw configError('--full-ids does not go with --from/--to: a backfill prints counts only');
  const [{ asOfDates }, { backfill }, { withWarehouse }] = await Promise.all([
    import('../../matching/as-of-dates.ts'),
    import('../../matching/backfill.ts'),
    import('../context.ts'),
  ]);
  const { dates, every } = asOfDates(opts.from, opts.to, opts.every);
  const rules = await parseRuleIds(opts.rule);
  const format = parseFormat(opts.format);
  await withWarehouse(ctx, async (wh) => {
    const bar = progress('match backfill', ctx.log);
    const rows = await backfill({
      wh,
      config: ctx.config,
      log: ctx.log,
      dates,
      rules,
      counts: (f) =>
        (!opts.department || f.department === opts.department) &&
        (!opts.township || f.township === opts.township),
      onRule: (asOf, o, done, total) => bar.update({ phase: `${asOf} ${o.rule} ${o.status}`, done, total }),
    }).finally(() => bar.end());
    if (format === 'table') {
      ctx.out.write(
        `dry-run backfill, ${dates.length} date${dates.length === 1 ? '' : 's'} from ${opts.from} to ${opts.to} every ${every}: nothing was changed\n`,
      );
    }
    writeBackfill(ctx.out, format, rows);
  });
}

/** The backfill's counts; a skipped rule's reason once under the table (the same at every date), or in its row. */
function writeBackfill(out: NodeJS.WritableStream, format: Format, rows: readonly BackfillCounts[]): void {
  const shown = rows.map((r) => ({
    as_of: r.asOf,
    rule: r.rule,
    status: r.status,
    population: r.population,
    open: r.open,
    new: r.new,
    keep: r.keep,
    close: r.close,
    reopen: r.reopen,
    ms: Math.round(r.durationMs),
    ...(format === 'table' ? {} : { reason: r.reason ?? null }),
  }));
  const columns = format === 'table' ? BACKFILL_COLUMNS : [...BACKFILL_COLUMNS, 'reason'];
  writeRows(out, format, columns, shown);
  if (format !== 'table') return;
  const reasons = new Set(rows.flatMap((r) => (r.reason ? [`${r.rule}: ${r.reason}`] : [])));
  for (const line of reasons) out.write(`  skipped ${line}\n`);
}

/** The findings a dry run would open, keep, close or reopen; full IDs recorded in the audit log, as `findings` does. */
async function writeDryRunFindings(
  out: NodeJS.WritableStream,
  wh: Warehouse,
  outcomes: readonly RuleOutcome[],
  o: Opts & { format: 'csv' | 'json'; rules: RuleId[] | undefined; asOf: string },
): Promise<void> {
  const found = outcomes
    .flatMap((r) => r.findings ?? [])
    .filter((f) => !o.department || f.department === o.department)
    .filter((f) => !o.township || f.township === o.township);
  if (o.fullIds) {
    const { writeAudit } = await import('../../warehouse/audit.ts');
    await writeAudit(wh.db, {
      actor: process.env.USER ?? 'cli',
      role: 'bureau',
      action: 'match.dry_run_full_ids',
      target: JSON.stringify({ rules: o.rules, department: o.department, as_of: o.asOf }),
      rowCount: found.length,
    });
  }
  writeRows(
    out,
    o.format,
    DRY_RUN_COLUMNS,
    found.map((f) => shownFinding(f, o.fullIds === true)),
  );
}
