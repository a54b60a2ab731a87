import type { Command } from 'commander';
import { sql } from 'kysely';
import { configError } from '../../../core/errors.ts';
import { FINDING_STATES } from '../../../schemas/vocab.ts';
import { maskIdNumber } from '../../normalize/mask.ts';
import { writeAudit } from '../../warehouse/audit.ts';
import { asOfDate, makeContext, withWarehouse } from '../context.ts';
import { parseFormat, writeRows } from '../output.ts';
import { parseRuleIds } from './match.ts';
import { registerReview } from './review.ts';

/** The documented column set of `ruralhub findings` (CSV/JSON). */
export const FINDING_COLUMNS = [
  'id',
  'rule',
  'owner',
  'subject_kind',
  'id_number',
  'household_id',
  // A record whose ID could not be recovered has no person: it is found by its file and spreadsheet row.
  'source_file',
  'source_row',
  'name',
  'township',
  'village',
  'state',
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
      if (
        state !== 'all' &&
        state !== 'not_closed' &&
        !(FINDING_STATES as readonly string[]).includes(state)
      ) {
        throw configError(
          `--state: expected not_closed, all or one of ${FINDING_STATES.join(', ')}, got '${state}'`,
        );
      }
      await withWarehouse(ctx, async (wh) => {
        let q = wh.db
          .selectFrom('findings')
          .select([
            'id',
            'rule_id as rule',
            'department as owner',
            'subject_kind',
            'id_number',
            'household_id',
            'name',
            'township',
            'village',
            'state',
            'first_seen_on as first_seen',
            'last_seen_on as last_seen',
            'deadline',
            sql<number>`greatest(0, ${asOf}::date - deadline)`.as('overdue_days'),
            'details',
          ])
          .orderBy('rule_id')
          .orderBy('township')
          .orderBy('village')
          .orderBy('id');
        if (rules?.length) q = q.where('rule_id', 'in', rules);
        if (opts.department) q = q.where('department', '=', opts.department);
        if (opts.township) q = q.where('township', '=', opts.township);
        if (state === 'not_closed') q = q.where('state', '<>', 'closed');
        else if (state !== 'all') q = q.where('state', '=', state);
        if (opts.overdue) q = q.where('state', '<>', 'closed').where('deadline', '<', asOf);
        const rows = await q.execute();
        const shown = rows.map((r) => {
          const details = { ...(r.details as Record<string, unknown>) };
          if (!opts.fullIds) {
            for (const [k, v] of Object.entries(details))
              if (typeof v === 'string' && /id_number/.test(k)) details[k] = maskIdNumber(v);
          }
          const src = r.details as { file?: unknown; row?: unknown };
          return {
            ...r,
            source_file: typeof src.file === 'string' ? src.file : null,
            source_row: typeof src.row === 'number' ? src.row : null,
            id_number: r.id_number && !opts.fullIds ? maskIdNumber(r.id_number) : r.id_number,
            details,
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
