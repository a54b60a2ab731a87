/**
 * Department lists (问题清单 + 责任清单 + 时限清单 in one workbook): for each department, a cover sheet and one
 * sheet per rule with the rule's disclosed fields only, a stable item id, first found and deadline, and
 * empty answer columns. Exported items become `sent`; re-exporting the same items does not send them twice.
 */
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { RULES } from '../../pipelines/rules/index.ts';
import type { RuleDefinition } from '../../schemas/rule.ts';
import type { Department, RuleId } from '../../schemas/vocab.ts';
import type { Logger } from '../log.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { neutralizeCell } from './neutralize.ts';

export const PURPOSE = '疑点清单，仅用于核实整改，不得转作他用';
export const ANSWER_HEADERS = ['核实结果', '说明', '整改日期'] as const;
export const ANSWER_CHOICES = ['已整改', '核实不属实', '整改中'] as const;

export interface ListFile {
  department: string;
  path: string;
  items: number;
  perRule: Record<string, number>;
}

export interface ExportParams {
  wh: Warehouse;
  outDir: string;
  asOf: string;
  log: Logger;
  department?: string;
  actor?: string;
}

interface FindingForList {
  id: number;
  rule_id: string;
  state: string;
  id_number: string | null;
  household_id: string | null;
  name: string | null;
  township: string | null;
  village: string | null;
  details: Record<string, string | number | null>;
  first_seen_on: string;
  deadline: string;
}

/** Headers of a rule's list sheet, in order. The contract tests read files back against this. */
export function listHeaders(rule: RuleDefinition<never>): string[] {
  return [
    '清单编号',
    ...rule.disclosed.map((d) => d.label),
    '首次发现日期',
    '整改时限',
    '逾期天数',
    ...ANSWER_HEADERS,
  ];
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000);
}

function rowFor(rule: RuleDefinition<never>, f: FindingForList, asOf: string): (string | number | null)[] {
  const disclosed = rule.disclosed.map((d) => {
    const v = d.from === 'finding' ? f[d.key as keyof FindingForList] : f.details[d.key];
    return v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : v;
  });
  const overdue = Math.max(0, daysBetween(f.deadline, asOf));
  return [String(f.id), ...disclosed, f.first_seen_on, f.deadline, overdue, null, null, null];
}

function addRuleSheet(
  wb: ExcelJS.Workbook,
  rule: RuleDefinition<never>,
  items: FindingForList[],
  asOf: string,
) {
  const ws = wb.addWorksheet(`${rule.id} ${rule.name}`.slice(0, 31), {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  const headers = listHeaders(rule);
  ws.addRow(headers).font = { bold: true };
  for (const f of items) ws.addRow(rowFor(rule, f, asOf).map(neutralizeCell));
  headers.forEach((h, i) => {
    const col = ws.getColumn(i + 1);
    col.width = h === '身份证号' ? 22 : Math.max(10, h.length * 2 + 4);
    // ID numbers and item ids are text: Excel must never turn them into numbers.
    if (h === '身份证号' || h === '清单编号' || h === '户编号') col.numFmt = '@';
  });
  const answerCol = headers.indexOf('核实结果') + 1;
  for (let r = 2; r <= items.length + 1; r++) {
    ws.getCell(r, answerCol).dataValidation = {
      type: 'list',
      allowBlank: true,
      formulae: [`"${ANSWER_CHOICES.join(',')}"`],
    };
  }
}

export async function exportLists(p: ExportParams): Promise<ListFile[]> {
  const { db } = p.wh;
  let q = db
    .selectFrom('findings')
    .select([
      'id',
      'rule_id',
      'department',
      'state',
      'id_number',
      'household_id',
      'name',
      'township',
      'village',
      'details',
      'first_seen_on',
      'deadline',
    ])
    .where('state', '<>', 'closed')
    .orderBy('rule_id')
    .orderBy('township')
    .orderBy('village')
    .orderBy('id');
  if (p.department) q = q.where('department', '=', p.department);
  const rows = (await q.execute()) as (FindingForList & { department: string })[];
  const byDept = new Map<string, typeof rows>();
  for (const r of rows) byDept.set(r.department, [...(byDept.get(r.department) ?? []), r]);
  await mkdir(p.outDir, { recursive: true });
  const files: ListFile[] = [];
  for (const [department, items] of [...byDept.entries()].sort()) {
    const perRule: Record<string, number> = {};
    for (const i of items) perRule[i.rule_id] = (perRule[i.rule_id] ?? 0) + 1;
    const wb = new ExcelJS.Workbook();
    wb.creator = 'RuralHub';
    const cover = wb.addWorksheet('说明');
    cover.addRows([
      ['部门', department],
      ['导出时间', new Date().toISOString()],
      ['数据截至', p.asOf],
      ['清单条数', items.length],
      ...Object.entries(perRule).map(([rule, n]) => [`${rule} ${RULES[rule as RuleId]?.name ?? ''}`, n]),
      ['用途', PURPOSE],
      ['填写说明', `请在“核实结果”列选择：${ANSWER_CHOICES.join(' / ')}；核实不属实须在“说明”列写明原因。`],
    ]);
    cover.getColumn(1).width = 28;
    cover.getColumn(2).width = 60;
    for (const ruleId of Object.keys(perRule)) {
      const rule = RULES[ruleId as RuleId];
      if (rule)
        addRuleSheet(
          wb,
          rule,
          items.filter((i) => i.rule_id === ruleId),
          p.asOf,
        );
    }
    const file = join(p.outDir, `${department}-问题清单-${p.asOf}.xlsx`);
    const tmp = `${file}.partial`;
    await wb.xlsx.writeFile(tmp);
    // The file exists before the items are marked sent; the rename after the commit makes it visible.
    await db.transaction().execute(async (trx) => {
      const ids = items.filter((i) => i.state === 'open' || i.state === 'reopened').map((i) => i.id);
      if (ids.length) {
        await sql`
          WITH s AS (
            UPDATE findings f SET state = 'sent', sent_on = ${p.asOf}::date
            FROM (SELECT id, state AS from_state FROM findings WHERE id = ANY(${ids}::bigint[]) FOR UPDATE) o
            WHERE f.id = o.id RETURNING f.id, o.from_state)
          INSERT INTO finding_events (finding_id, from_state, to_state, reason)
          SELECT id, from_state, 'sent', ${`list exported to ${department}`} FROM s`.execute(trx);
      }
      await trx
        .insertInto('audit_log')
        .values({
          actor: p.actor ?? 'cli',
          role: 'operator',
          department: department as Department,
          action: 'lists.export',
          target: file,
          row_count: items.length,
          details: JSON.stringify({ per_rule: perRule, as_of: p.asOf }),
        })
        .execute();
    });
    await rename(tmp, file);
    p.log.info({ department, items: items.length }, 'list written');
    files.push({ department, path: file, items: items.length, perRule });
  }
  return files;
}
