/**
 * Department lists (问题清单 + 责任清单 + 时限清单 in one workbook): for each department, a cover sheet and one
 * sheet per rule with the rule's disclosed fields only, a stable item id, first found and deadline, and
 * empty answer columns. Exported items become `sent`; re-exporting the same items does not send them twice.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { localTimeIn } from '../../core/clock.ts';
import { terminalError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { RULES, type RuleRegistry } from '../../pipelines/rules/index.ts';
import type { FindingColumn, FindingRow, RuleInfo } from '../../pipelines/rules/rule.ts';
import {
  type Department,
  FEEDBACK_ANSWERS,
  FEEDBACK_LABELS,
  type FeedbackAnswer,
} from '../../schemas/vocab.ts';
import { insertFindingEvents } from '../findings/events.ts';
import { writeAudit } from '../warehouse/audit.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { csvLine, UTF8_BOM } from './csv.ts';
import { loadExcel } from './excel.ts';
import { neutralizeCell } from './neutralize.ts';

export const PURPOSE = '疑点清单，仅用于核实整改，不得转作他用';
export const ANSWER_HEADERS = ['核实结果', '说明', '整改日期'] as const;
export const ANSWER_CHOICES = FEEDBACK_ANSWERS.map((a) => FEEDBACK_LABELS[a]);
export const ITEM_ID_HEADER = '清单编号';

export const LIST_FORMATS = ['xlsx', 'csv'] as const;
export type ListFormat = (typeof LIST_FORMATS)[number];

export interface ListFile {
  department: string;
  /** `教育局-2026-11-24-3`: department, export date and the department's export count. */
  version: string;
  /** One workbook (xlsx), or one file per rule (csv: a CSV holds one table). */
  paths: string[];
  items: number;
  perRule: Record<string, number>;
}

export interface ExportParams {
  wh: Warehouse;
  outDir: string;
  asOf: string;
  log: Logger;
  department?: string;
  rules?: readonly string[];
  /** The rules whose findings can be listed; default the project's (an extension passes the one runMatch had). */
  registry?: RuleRegistry;
  format?: ListFormat;
  actor?: string;
  /** The remote address of the API request asking for the list, for the audit log. */
  clientAddr?: string | null;
  /** The county's time zone, for the export time on the cover sheet (default Asia/Shanghai). */
  timeZone?: string;
}

/** A finding as a list shows it: the rule's row (FindingRow's columns and details), and its life so far. */
interface FindingForList extends Pick<FindingRow, FindingColumn | 'details'> {
  id: number;
  rule_id: string;
  state: string;
  first_seen_on: string;
  deadline: string;
  feedback: FeedbackAnswer | null;
  feedback_reason: string | null;
  rectified_on: string | null;
}

/**
 * The rule of a finding's rule_id: its list's columns. A finding of a rule this version does not have cannot be
 * listed.
 */
const ruleLookup =
  (registry: RuleRegistry) =>
  (id: string): RuleInfo => {
    const rule = new Map(Object.entries(registry)).get(id);
    if (!rule)
      throw terminalError(`findings of rule ${id}, which this version does not have, cannot be listed`);
    return rule;
  };

/** Headers of a rule's list sheet, in order. The contract tests read files back against this. */
export function listHeaders(rule: RuleInfo): string[] {
  return [
    ITEM_ID_HEADER,
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

/**
 * One list row. An item already answered carries its answer, so the department sees what it said and a
 * returned file that keeps it changes nothing.
 */
function rowFor(rule: RuleInfo, f: FindingForList, asOf: string): (string | number | null)[] {
  const disclosed = rule.disclosed.map((d) => {
    const v = d.from === 'finding' ? f[d.key] : f.details[d.key];
    return v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : v;
  });
  const overdue = Math.max(0, daysBetween(f.deadline, asOf));
  return [
    String(f.id),
    ...disclosed,
    f.first_seen_on,
    f.deadline,
    overdue,
    f.feedback ? FEEDBACK_LABELS[f.feedback] : null,
    f.feedback_reason,
    f.rectified_on,
  ].map(neutralizeCell);
}

/** Text columns Excel must never turn into numbers (an 18-digit ID would lose its last digits). */
const TEXT_HEADERS = new Set(['身份证号', '户主身份证号', ITEM_ID_HEADER, '户编号']);

function addRuleSheet(wb: ExcelJS.Workbook, rule: RuleInfo, items: FindingForList[], asOf: string) {
  const ws = wb.addWorksheet(`${rule.id} ${rule.name}`.slice(0, 31), {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  const headers = listHeaders(rule);
  ws.addRow(headers).font = { bold: true };
  for (const f of items) ws.addRow(rowFor(rule, f, asOf));
  headers.forEach((h, i) => {
    const col = ws.getColumn(i + 1);
    col.width = TEXT_HEADERS.has(h) && h !== ITEM_ID_HEADER ? 22 : Math.max(10, h.length * 2 + 4);
    if (TEXT_HEADERS.has(h)) col.numFmt = '@';
  });
  const answerCol = headers.indexOf('核实结果') + 1;
  for (let r = 2; r <= items.length + 1; r++) {
    ws.getCell(r, answerCol).dataValidation = {
      type: 'list',
      allowBlank: true,
      showErrorMessage: true,
      formulae: [`"${ANSWER_CHOICES.join(',')}"`],
    };
  }
}

function coverRows(
  department: string,
  version: string,
  asOf: string,
  perRule: Record<string, number>,
  exportedAt: string,
  ruleOf: (id: string) => RuleInfo,
) {
  const total = Object.values(perRule).reduce((a, b) => a + b, 0);
  return [
    ['部门', department],
    ['清单版本', version],
    ['导出时间', exportedAt],
    ['数据截至', asOf],
    ['清单条数', total],
    ...Object.entries(perRule).map(([rule, n]) => [`${rule} ${ruleOf(rule).name}`, n]),
    ['用途', PURPOSE],
    [
      '填写说明',
      `请在“核实结果”列选择：${ANSWER_CHOICES.join(' / ')}；核实不属实须在“说明”列写明原因；已整改请填写整改日期。请勿修改“${ITEM_ID_HEADER}”列。`,
    ],
  ];
}

async function writeWorkbook(
  path: string,
  department: string,
  version: string,
  asOf: string,
  perRule: Record<string, number>,
  items: FindingForList[],
  exportedAt: string,
  ruleOf: (id: string) => RuleInfo,
) {
  const Excel = await loadExcel();
  const wb: ExcelJS.Workbook = new Excel.Workbook();
  wb.creator = 'RuralHub';
  const cover = wb.addWorksheet('说明');
  cover.addRows(coverRows(department, version, asOf, perRule, exportedAt, ruleOf));
  cover.getColumn(1).width = 28;
  cover.getColumn(2).width = 60;
  for (const ruleId of Object.keys(perRule)) {
    addRuleSheet(
      wb,
      ruleOf(ruleId),
      items.filter((i) => i.rule_id === ruleId),
      asOf,
    );
  }
  await wb.xlsx.writeFile(path);
}

/**
 * CSV: one file per rule (a CSV holds one table), UTF-8 with BOM so Excel shows the Chinese text. The first
 * line names department, rule, version and purpose; the feedback reader finds the header below it.
 */
async function writeCsv(
  path: string,
  department: string,
  version: string,
  rule: RuleInfo,
  items: FindingForList[],
  asOf: string,
) {
  const lines = [
    csvLine([`${department} ${rule.id} ${rule.name} 清单版本 ${version} 数据截至 ${asOf}（${PURPOSE}）`]),
    csvLine(listHeaders(rule)),
    ...items.map((f) => csvLine(rowFor(rule, f, asOf))),
  ];
  await writeFile(path, UTF8_BOM + lines.join(''));
}

export async function exportLists(p: ExportParams): Promise<ListFile[]> {
  const { db } = p.wh;
  const exportedAt = localTimeIn(p.timeZone ?? 'Asia/Shanghai');
  const format = p.format ?? 'xlsx';
  const ruleOf = ruleLookup(p.registry ?? RULES);
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
      'feedback',
      'feedback_reason',
      'rectified_on',
    ])
    .where('state', '<>', 'closed')
    .orderBy('rule_id')
    .orderBy('township')
    .orderBy('village')
    .orderBy('id');
  if (p.department) q = q.where('department', '=', p.department);
  if (p.rules?.length) q = q.where('rule_id', 'in', p.rules);
  const rows = (await q.execute()) as (FindingForList & { department: string })[];
  const byDept = new Map<string, typeof rows>();
  for (const r of rows) byDept.set(r.department, [...(byDept.get(r.department) ?? []), r]);
  await mkdir(p.outDir, { recursive: true });
  const files: ListFile[] = [];
  for (const [department, items] of [...byDept.entries()].sort()) {
    const perRule: Record<string, number> = {};
    for (const i of items) perRule[i.rule_id] = (perRule[i.rule_id] ?? 0) + 1;
    const previous = await db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('action', '=', 'lists.export')
      .where('department', '=', department)
      .executeTakeFirstOrThrow();
    const version = `${department}-${p.asOf}-${Number(previous.n) + 1}`;
    // Files are written under a temporary name and renamed only after the transaction that marks the
    // items sent has committed: a list that exists was recorded, and a failed export leaves no list.
    const targets: { tmp: string; path: string }[] = [];
    if (format === 'xlsx') {
      const path = join(p.outDir, `${department}-问题清单-${p.asOf}.xlsx`);
      targets.push({ tmp: `${path}.partial`, path });
      await writeWorkbook(`${path}.partial`, department, version, p.asOf, perRule, items, exportedAt, ruleOf);
    } else {
      for (const ruleId of Object.keys(perRule)) {
        const rule = ruleOf(ruleId);
        const path = join(p.outDir, `${department}-${ruleId}-问题清单-${p.asOf}.csv`);
        targets.push({ tmp: `${path}.partial`, path });
        await writeCsv(
          `${path}.partial`,
          department,
          version,
          rule,
          items.filter((i) => i.rule_id === ruleId),
          p.asOf,
        );
      }
    }
    await db.transaction().execute(async (trx) => {
      const ids = items.map((i) => i.id);
      await sql`
        WITH s AS (
          UPDATE findings f
          SET state = CASE WHEN o.from_state IN ('open', 'reopened') THEN 'sent' ELSE f.state END,
              sent_on = CASE WHEN o.from_state IN ('open', 'reopened') THEN ${p.asOf}::date ELSE f.sent_on END,
              list_version = ${version}
          FROM (SELECT id, state AS from_state FROM findings WHERE id = ANY(${ids}::bigint[]) FOR UPDATE) o
          WHERE f.id = o.id RETURNING f.id, o.from_state, f.state)
        ${insertFindingEvents({
          from: sql`s`,
          fromState: sql`from_state`,
          toState: 'sent',
          reason: `list ${version} exported to ${department}`,
          where: sql`from_state <> state`,
          onDate: p.asOf,
        })}`.execute(trx);
      await writeAudit(trx, {
        actor: p.actor ?? 'cli',
        role: 'operator',
        department: department as Department,
        action: 'lists.export',
        target: targets.map((t) => t.path).join(', '),
        rowCount: items.length,
        details: { per_rule: perRule, as_of: p.asOf, version, format },
        clientAddr: p.clientAddr ?? null,
      });
    });
    for (const t of targets) await rename(t.tmp, t.path);
    p.log.info({ department, items: items.length, version }, 'list written');
    files.push({ department, version, paths: targets.map((t) => t.path), items: items.length, perRule });
  }
  return files;
}
