import type { Command } from 'commander';
import { configError } from '../../../core/errors.ts';
import { FINDING_STATES } from '../../../schemas/vocab.ts';
import {
  FINDING_COLUMNS as FINDING_LISTING,
  FINDINGS_STATE_FILTERS,
  overdueDays,
  selectFindings,
} from '../../findings/query.ts';
import { maskIdNumber, maskIdNumberFields } from '../../normalize/mask.ts';
import { writeAudit } from '../../warehouse/audit.ts';
import { asOfDate, makeContext, withWarehouse } from '../context.ts';
import { FINDING_SUBJECT_COLUMNS } from '../finding-columns.ts';
import { parseFormat, writeRows } from '../output.ts';
import { parseRuleIds } from './match.ts';
import { registerReview } from './review.ts';

/** The documented column set of `ruralhub findings` (CSV/JSON). */
export const FINDING_COLUMNS = [
  'id',
  ...FINDING_SUBJECT_COLUMNS,
  'first_seen',
  'last_seen',
  'deadline',
  'overdue_days',
  'details',
] as const;

interface Opts {
  rule?: string[];
  department?: string;
  township?: string;
  state?: string;
  overdue?: boolean;
  format?: string;
  fullIds?: boolean;
  asOf?: string;
}

export function registerFindings(program: Command): void {
  const findings = program.command('findings');
  registerReview(findings);
  findings
    .description('list findings with their state; ID numbers are masked (first 4 + last 4) unless --full-ids')
    .option('-r, --rule <id...>', 'only these rules')
    .option('-d, --department <name>', 'only findings owned by this department')
    .option('-t, --township <name>', 'only this township')
    .option(
      '-s, --state <state>',
      `not_closed (default), all, or one of ${FINDING_STATES.join(', ')}`,
      'not_closed',
    )
    .option('--overdue', 'only findings past their deadline (as of --as-of)')
    .option('--format <format>', 'table, csv or json', 'table')
    .option('--full-ids', 'print full ID numbers (an authorized bureau export; written to the audit log)')
    .option('--as-of <date>', 'date for overdue days, YYYY-MM-DD (default: today)')
    .addHelpText(
      'after',
      `
Columns: ${FINDING_COLUMNS.join(', ')}

Example:
  $ ruralhub findings --rule R01 --format csv > r01.csv`,
    )
    .action(async (opts: Opts, cmd: Command) => {
      const ctx = makeContext(cmd.optsWithGlobals());
      const format = parseFormat(opts.format);
      const rules = parseRuleIds(opts.rule);
      const asOf = asOfDate(ctx, opts.asOf);
      const state = opts.state ?? 'not_closed';
      if (!(FINDINGS_STATE_FILTERS as readonly string[]).includes(state)) {
        throw configError(
          `--state: expected not_closed, all or one of ${FINDING_STATES.join(', ')}, got '${state}'`,
        );
      }
      await withWarehouse(ctx, async (wh) => {
        const rows = await selectFindings(wh.db, {
          rules,
          department: opts.department,
          township: opts.township,
          state,
          overdueOn: opts.overdue ? asOf : undefined,
        })
          .select([...FINDING_LISTING, overdueDays(asOf)])
          .orderBy('rule_id')
          .orderBy('township')
          .orderBy('village')
          .orderBy('id')
          .execute();
        const shown = rows.map((r) => {
          const details = opts.fullIds
            ? { ...(r.details as Record<string, unknown>) }
            : maskIdNumberFields(r.details as Record<string, unknown>);
          const src = r.details as { file?: unknown; row?: unknown };
          // The CLI's documented names, in the order its JSON has always had.
          return {
            id: r.id,
            rule: r.rule_id,
            owner: r.department,
            subject_kind: r.subject_kind,
            id_number: r.id_number && !opts.fullIds ? maskIdNumber(r.id_number) : r.id_number,
            household_id: r.household_id,
            name: r.name,
            township: r.township,
            village: r.village,
            state: r.state,
            first_seen: r.first_seen_on,
            last_seen: r.last_seen_on,
            deadline: r.deadline,
            overdue_days: r.overdue_days,
            details,
            source_file: typeof src.file === 'string' ? src.file : null,
            source_row: typeof src.row === 'number' ? src.row : null,
          };
        });
        if (opts.fullIds) {
          await writeAudit(wh.db, {
            actor: process.env.USER ?? 'cli',
            role: 'bureau',
            action: 'findings.export_full_ids',
            target: JSON.stringify({ rules, department: opts.department, state }),
            rowCount: rows.length,
          });
        }
        writeRows(ctx.out, format, FINDING_COLUMNS, shown);
      });
    });
}
