import type { Command } from 'commander';
import { configError } from '../../../core/errors.ts';
import { FINDING_STATES } from '../../../schemas/vocabulary.ts';
import type { Approval } from '../../approvals/approvals.ts';
import { maskIdNumber, maskIdNumberFields } from '../../normalize/mask.ts';
import type { makeContext } from '../context.ts';
import { detailsText } from '../finding-columns.ts';
import {
  FINDING_COLUMNS,
  FINDING_TABLE_COLUMNS,
  FINDINGS_TABLE_LIMIT,
  type FindingColumn,
} from '../finding-listing.ts';
import { rowLimit } from '../list-options.ts';
import { type Format, parseFormat, writeRows } from '../output.ts';
import { formatTable, moreLine, parseColumns } from '../table.ts';
import { parseRuleIds } from './match.ts';

/** The options of `ruralhub findings` (./findings-command.ts). */
export interface FindingsOpts {
  rule?: string[];
  department?: string;
  township?: string;
  state?: string;
  overdue?: boolean;
  format?: string;
  fullIds?: boolean;
  asOf?: string;
  explain?: string;
  approval?: string;
  columns?: string;
  limit?: string;
}

/** `ruralhub findings`: what the command runs (its options and help are in ./findings-command.ts). */
export async function listFindings(opts: FindingsOpts, cmd: Command): Promise<void> {
  const [
    { approvalId, consumeApproval },
    { coversFindings, fullIdsFilter, fullIdsRefusal },
    { FINDING_COLUMNS: FINDING_LISTING, FINDINGS_STATE_FILTERS, overdueDays, selectFindings },
    { writeAudit },
    { asOfDate, makeContext, withWarehouse },
  ] = await Promise.all([
    import('../../approvals/approvals.ts'),
    import('../../approvals/findings-full-ids.ts'),
    import('../../findings/query.ts'),
    import('../../warehouse/audit.ts'),
    import('../context.ts'),
  ]);
  const ctx = makeContext(cmd.optsWithGlobals());
  const format = parseFormat(opts.format);
  if ((opts.columns !== undefined || opts.limit !== undefined) && format !== 'table')
    throw configError(
      '--columns and --limit: the table only (csv and json list every finding, every column)',
    );
  const tableColumns = parseColumns(opts.columns, FINDING_COLUMNS, FINDING_TABLE_COLUMNS);
  if (opts.explain !== undefined) {
    await explainFinding(ctx, opts.explain, { format, fullIds: opts.fullIds === true });
    return;
  }
  const rules = await parseRuleIds(opts.rule);
  const asOf = asOfDate(ctx, opts.asOf);
  const state = opts.state ?? 'not_closed';
  if (!(FINDINGS_STATE_FILTERS as readonly string[]).includes(state)) {
    throw configError(
      `--state: expected not_closed, all or one of ${FINDING_STATES.join(', ')}, got '${state}'`,
    );
  }
  if (opts.approval !== undefined && !opts.fullIds)
    throw configError('--approval: only with --full-ids (a masked listing needs no approval)');
  const approvalToUse = opts.approval === undefined ? undefined : approvalId(opts.approval);
  const filter = fullIdsFilter({
    rules,
    department: opts.department,
    township: opts.township,
    state,
    overdueOn: opts.overdue ? asOf : undefined,
  });
  const maxRows = ctx.config.approvals.findings_full_ids_max_rows;
  const actor = process.env.USER ?? 'cli';
  await withWarehouse(ctx, async (wh) => {
    // One transaction: the listing, the approval it uses and the audit row of the export are one fact.
    const listed = await wh.db.transaction().execute(async (trx) => {
      const rows = await selectFindings(trx, {
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
      if (!opts.fullIds) return { rows };
      // A bulk disclosure of full IDs needs a second person's approval (issue 27); a small one stays one step.
      let approval: Approval | null = null;
      if (approvalToUse !== undefined)
        approval = await consumeApproval(trx, {
          id: approvalToUse,
          kind: 'findings-full-ids',
          covers: coversFindings(filter, rows.length),
          now: new Date(),
        });
      else if (rows.length > maxRows) return { rows, refused: true };
      await writeAudit(trx, {
        actor,
        role: 'bureau',
        action: 'findings.export_full_ids',
        target: JSON.stringify({ rules, department: opts.department, state }),
        rowCount: rows.length,
        details: approval
          ? {
              approval: approval.id,
              requested_by: approval.requested_by,
              approved_by: approval.decided_by,
            }
          : {},
      });
      return { rows };
    });
    if (listed.refused) {
      // The refusal is recorded too: an attempt at a bulk export is something the bureau wants to see.
      await writeAudit(wh.db, {
        actor,
        role: 'bureau',
        action: 'findings.export_full_ids_refused',
        target: JSON.stringify({ rules, department: opts.department, state }),
        rowCount: listed.rows.length,
        details: { max_rows: maxRows },
      });
      throw fullIdsRefusal(filter, listed.rows.length, maxRows);
    }
    const { rows } = listed;
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
    if (format !== 'table') {
      writeRows(ctx.out, format, FINDING_COLUMNS, shown);
      return;
    }
    ctx.out.write(
      `${findingsTable(shown, tableColumns, rowLimit(opts.limit ?? String(FINDINGS_TABLE_LIMIT), FINDINGS_TABLE_LIMIT))}\n`,
    );
  });
}

/**
 * The findings as a table: the chosen columns, details as `标签：值`, at most `limit` rows and then how many more.
 */
export function findingsTable(
  rows: readonly (Record<FindingColumn, unknown> & { rule: string })[],
  columns: readonly FindingColumn[],
  limit: number,
): string {
  const cell = (r: (typeof rows)[number], c: FindingColumn): string | number | null => {
    const v = r[c];
    if (c === 'details') return detailsText(r.rule, v);
    if (v === null || v === undefined) return null;
    return typeof v === 'number' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  };
  const table = formatTable(
    columns,
    rows.slice(0, limit).map((r) => columns.map((c) => cell(r, c))),
  );
  return rows.length > limit ? `${table}\n${moreLine(rows.length - limit)}` : table;
}

/**
 * `findings --explain ID`: the finding, then its events in order, each with the records a match found behind it
 * (src/findings/lineage.ts). For the bureau's operator at the command line: the records may be any department's.
 */
async function explainFinding(
  ctx: ReturnType<typeof makeContext>,
  idText: string,
  o: { format: Format; fullIds: boolean },
): Promise<void> {
  if (!/^[0-9]{1,15}$/.test(idText))
    throw configError(`--explain: expected a finding id (a number), got '${idText}'`);
  if (o.format === 'csv')
    throw configError('--explain: --format table or json (a finding and its events are not one table)');
  const id = Number(idText);
  const [{ presentLineage, readFindingLineage }, { writeAudit }, { withWarehouse }] = await Promise.all([
    import('../../findings/lineage.ts'),
    import('../../warehouse/audit.ts'),
    import('../context.ts'),
  ]);
  await withWarehouse(ctx, async (wh) => {
    const lineage = await readFindingLineage(wh.db, id);
    if (!lineage) throw configError(`no finding ${id}`);
    const shown = presentLineage(lineage, { fullIds: o.fullIds });
    if (o.fullIds) {
      await writeAudit(wh.db, {
        actor: process.env.USER ?? 'cli',
        role: 'bureau',
        action: 'findings.explain_full_ids',
        target: String(id),
        rowCount: 1 + shown.events.reduce((n, e) => n + e.records.length, 0),
      });
    }
    if (o.format === 'json') {
      ctx.out.write(`${JSON.stringify(shown, null, 2)}\n`);
      return;
    }
    const f = shown.finding;
    const who = [f.id_number, f.household_id ? `户 ${f.household_id}` : null, f.name]
      .filter(Boolean)
      .join(' ');
    const lines = [
      `finding ${f.id}  ${f.rule_id}  ${f.department}  ${f.subject_kind} ${who}`.trimEnd(),
      `  ${[
        [f.township, f.village].filter(Boolean).join(' '),
        `state ${f.state}${f.close_reason ? ` (${f.close_reason})` : ''}`,
        `first seen ${f.first_seen_on}`,
        `last seen ${f.last_seen_on}`,
        `deadline ${f.deadline}`,
      ]
        .filter(Boolean)
        .join('  ')}`,
      `  details ${detailsText(f.rule_id, f.details)}`,
    ];
    for (const e of shown.events) {
      const by = e.run_id === null ? '' : `  match run ${e.run_id}, as of ${e.as_of}`;
      lines.push('', `${e.on_date}  ${e.from_state ?? '∅'} → ${e.to_state}  ${e.reason}${by}`);
      if (e.run_id === null) continue;
      if (e.records.length === 0) {
        lines.push("  no record of the subject in the rule's feeds on that date");
        continue;
      }
      const table = formatTable(
        ['feed', 'record', 'file', 'sheet', 'row', 'load run', 'data date'],
        e.records.map((r) => [
          `${r.feed_title}${r.kind === 'quarantined' ? ' (rejected row)' : ''}`,
          Object.entries(r.key)
            .map(([k, v]) => `${k} ${v ?? ''}`)
            .join(', '),
          r.source,
          r.sheet,
          r.row,
          r.run_id,
          r.data_date,
        ]),
      );
      lines.push(...table.split('\n').map((l) => `  ${l}`));
    }
    ctx.out.write(`${lines.join('\n')}\n`);
  });
}
