/**
 * Department lists (问题清单 + 责任清单 + 时限清单 in one workbook): for each department, a cover sheet and one
 * sheet per rule with the rule's disclosed fields only, a stable item id, first found and deadline, and
 * empty answer columns. Exported items become `sent`; re-exporting the same items does not send them twice.
 *
 * Every file carries its purpose and whom it is for (the stamp: purpose, recipient, version, export time and
 * exporter): a list is personal data lent to one department for one task, and a copy found elsewhere must say
 * where it came from and that it should not be there (issue 27).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { displayWidth } from '../../core/chars.ts';
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
import { LIST_FORMATS, type ListFormat } from '../../schemas/vocabulary.ts';
import { insertFindingEvents } from '../findings/events.ts';
import { writeAudit } from '../warehouse/audit.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { csvLine, UTF8_BOM } from './csv.ts';
import {
  addFilterDatabaseNames,
  addRangeValidation,
  headerFooterText,
  loadExcel,
  type PromptOnly,
} from './excel.ts';
import { neutralizeCell } from './neutralize.ts';

export const PURPOSE = '疑点清单，仅用于核实整改，不得转作他用或对外提供';
export const ANSWER_HEADERS = ['核实结果', '说明', '整改日期'] as const;
export const ANSWER_CHOICES = FEEDBACK_ANSWERS.map((a) => FEEDBACK_LABELS[a]);
export const ITEM_ID_HEADER = '清单编号';

// Defined in the vocabulary leaf, so that `lists export --help` names the formats without loading this module.
export { LIST_FORMATS, type ListFormat };

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

/** What every list file says about itself (on every sheet, in its properties, in every CSV). */
export interface ListStamp {
  department: string;
  version: string;
  asOf: string;
  /** Local time with the zone named (localTimeIn), as the cover sheet has always shown it. */
  exportedAt: string;
  /** The actor of the export as the audit log records it: cli, scheduler, demo, token:<id>. */
  exporter: string;
}

/** The purpose and the stamp in one line: document description, CSV footer. */
export function stampLine(s: ListStamp): string {
  return `${PURPOSE}。接收部门：${s.department}；清单版本：${s.version}；数据截至：${s.asOf}；导出时间：${s.exportedAt}；导出人：${s.exporter}`;
}

/**
 * Print header and footer of every sheet: the purpose and the recipient on top, version, export time and
 * exporter below, so every printed page of a list says what it is for and whose it is (a sheet's cells cannot:
 * the header row must stay the first row the answer reader finds, and a page beyond the first shows no cover).
 */
function stampHeaderFooter(s: ListStamp): Partial<ExcelJS.HeaderFooter> {
  const t = headerFooterText;
  return {
    oddHeader: `&L${t(PURPOSE)}&R接收部门：${t(s.department)}`,
    oddFooter: `&L清单版本：${t(s.version)}  导出时间：${t(s.exportedAt)}  导出人：${t(s.exporter)}&R第 &P 页，共 &N 页`,
  };
}

/** Landscape A4, all columns on one page's width (as many pages down as it takes). */
const PAGE_SETUP: Partial<ExcelJS.PageSetup> = {
  paperSize: 9,
  orientation: 'landscape',
  fitToPage: true,
  fitToWidth: 1,
  fitToHeight: 0,
};

/**
 * Sheet protection without a password: a guard against slips (typing over an item id or a disclosed field
 * breaks the answer's match), not security — 审阅 › 撤销工作表保护 lifts it without asking. Filtering, sorting
 * and resizing stay allowed; only the answer cells are unlocked.
 */
const PROTECTION: Partial<ExcelJS.WorksheetProtection> = {
  selectLockedCells: true,
  selectUnlockedCells: true,
  formatColumns: true,
  formatRows: true,
  sort: true,
  autoFilter: true,
};

/** One validation per answer column, over exactly the data rows: the drop-down, a prompt, a date check. */
const ANSWER_VALIDATIONS: Record<(typeof ANSWER_HEADERS)[number], ExcelJS.DataValidation | PromptOnly> = {
  核实结果: {
    type: 'list',
    allowBlank: true,
    formulae: [`"${ANSWER_CHOICES.join(',')}"`],
    showInputMessage: true,
    promptTitle: '核实结果',
    prompt: `请从下拉列表选择：${ANSWER_CHOICES.join(' / ')}`,
    showErrorMessage: true,
    errorTitle: '核实结果',
    error: `只能填写：${ANSWER_CHOICES.join(' / ')}`,
  },
  说明: {
    type: 'any',
    formulae: [],
    showInputMessage: true,
    promptTitle: '说明',
    prompt: '核实不属实的，须写明原因（如 外地就读、外省参保、已死亡）',
  },
  // A warning, not a stop: the importer also reads dates typed as text (2026.11.20, 2026年11月20日).
  整改日期: {
    type: 'date',
    operator: 'between',
    allowBlank: true,
    formulae: [new Date(Date.UTC(2000, 0, 1)), new Date(Date.UTC(2099, 11, 31))],
    showInputMessage: true,
    promptTitle: '整改日期',
    prompt: '已整改的，填写整改完成日期，如 2026-11-20（不得晚于反馈当天）',
    showErrorMessage: true,
    errorStyle: 'warning',
    errorTitle: '整改日期',
    error: '请填写日期，如 2026-11-20',
  },
};

/** Widest a column gets (in narrow characters): longer text is cut off on screen, not the sheet made unreadable. */
const MAX_WIDTH = 40;
/** Answer columns are filled in by hand: wide enough to write in, whatever they hold now. */
const MIN_WIDTH: Record<string, number> = { 核实结果: 14, 说明: 30, 整改日期: 12 };

/**
 * A column as wide as its widest text (CJK counted double) plus a margin, within MIN_WIDTH and MAX_WIDTH; the
 * header's margin also leaves room for its filter button.
 */
function columnWidth(header: string, values: Iterable<string | number | null>): number {
  let widest = displayWidth(header) + 2;
  for (const v of values) if (v !== null) widest = Math.max(widest, displayWidth(String(v)));
  return Math.min(MAX_WIDTH, Math.max(MIN_WIDTH[header] ?? 0, widest + 2));
}

async function addRuleSheet(wb: ExcelJS.Workbook, rule: RuleInfo, items: FindingForList[], stamp: ListStamp) {
  const ws = wb.addWorksheet(`${rule.id} ${rule.name}`.slice(0, 31), {
    views: [{ state: 'frozen', ySplit: 1 }],
    pageSetup: { ...PAGE_SETUP, printTitlesRow: '1:1' },
    headerFooter: stampHeaderFooter(stamp),
  });
  const headers = listHeaders(rule);
  const rows = items.map((f) => rowFor(rule, f, stamp.asOf));
  ws.addRow(headers).font = { bold: true };
  for (const r of rows) ws.addRow(r);
  const last = rows.length + 1;
  headers.forEach((h, i) => {
    const col = ws.getColumn(i + 1);
    col.width = columnWidth(
      h,
      rows.map((r) => r[i] ?? null),
    );
    if (TEXT_HEADERS.has(h)) col.numFmt = '@';
  });
  for (const h of ANSWER_HEADERS) {
    const c = headers.indexOf(h) + 1;
    const letter = ws.getColumn(c).letter;
    addRangeValidation(ws, `${letter}2:${letter}${last}`, ANSWER_VALIDATIONS[h]);
    for (let r = 2; r <= last; r++) ws.getCell(r, c).protection = { locked: false };
  }
  ws.autoFilter = `A1:${ws.getColumn(headers.length).letter}${last}`;
  await ws.protect('', PROTECTION);
}

function coverRows(stamp: ListStamp, perRule: Record<string, number>, ruleOf: (id: string) => RuleInfo) {
  const total = Object.values(perRule).reduce((a, b) => a + b, 0);
  // 部门 stays the first row: the answer reader finds the department of a returned list there.
  return [
    ['部门', stamp.department],
    ['清单版本', stamp.version],
    ['导出时间', stamp.exportedAt],
    ['导出人', stamp.exporter],
    ['数据截至', stamp.asOf],
    ['清单条数', total],
    ...Object.entries(perRule).map(([rule, n]) => [`${rule} ${ruleOf(rule).name}`, n]),
    ['用途', PURPOSE],
    [
      '填写说明',
      `请在“核实结果”列选择：${ANSWER_CHOICES.join(' / ')}；核实不属实须在“说明”列写明原因；已整改请填写整改日期。请勿修改“${ITEM_ID_HEADER}”列。各清单表只有这三列可填写（工作表保护未设密码，仅防误改）。`,
    ],
  ];
}

async function writeWorkbook(
  path: string,
  stamp: ListStamp,
  perRule: Record<string, number>,
  items: FindingForList[],
  ruleOf: (id: string) => RuleInfo,
) {
  const Excel = await loadExcel();
  const wb: ExcelJS.Workbook = new Excel.Workbook();
  // Document properties (文件 › 信息): the stamp travels with the file even where no sheet is looked at.
  wb.creator = 'RuralHub';
  wb.lastModifiedBy = stamp.exporter;
  wb.created = new Date();
  wb.title = `${stamp.department}问题清单 ${stamp.version}`;
  wb.subject = PURPOSE;
  wb.description = stampLine(stamp);
  wb.keywords = `疑点清单 ${stamp.department} ${stamp.version}`;
  wb.category = '疑点清单';
  const cover = wb.addWorksheet('说明', {
    pageSetup: { ...PAGE_SETUP, orientation: 'portrait' },
    headerFooter: stampHeaderFooter(stamp),
  });
  cover.addRows(coverRows(stamp, perRule, ruleOf));
  cover.getColumn(1).width = 28;
  cover.getColumn(2).width = 60;
  cover.getColumn(2).alignment = { wrapText: true, vertical: 'top' };
  await cover.protect('', PROTECTION);
  for (const ruleId of Object.keys(perRule)) {
    await addRuleSheet(
      wb,
      ruleOf(ruleId),
      items.filter((i) => i.rule_id === ruleId),
      stamp,
    );
  }
  addFilterDatabaseNames(wb);
  await wb.xlsx.writeFile(path);
}

/**
 * CSV: one file per rule (a CSV holds one table), UTF-8 with BOM so Excel shows the Chinese text. The header is
 * the first line, so any program (or a department's own system) imports the file as the table it is; the stamp
 * is the last line, one cell beginning `说明：`, which every reader of this project (the answer reader included)
 * skips as a footer line wherever it ends up — also when Excel pads it with commas or a sort moves it.
 */
async function writeCsv(path: string, stamp: ListStamp, rule: RuleInfo, items: FindingForList[]) {
  const lines = [
    csvLine(listHeaders(rule)),
    ...items.map((f) => csvLine(rowFor(rule, f, stamp.asOf))),
    csvLine([`说明：${stampLine(stamp)}；规则：${rule.id} ${rule.name}`]),
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
    const stamp: ListStamp = { department, version, asOf: p.asOf, exportedAt, exporter: p.actor ?? 'cli' };
    // Files are written under a temporary name and renamed only after the transaction that marks the
    // items sent has committed: a list that exists was recorded, and a failed export leaves no list.
    const targets: { tmp: string; path: string }[] = [];
    if (format === 'xlsx') {
      const path = join(p.outDir, `${department}-问题清单-${p.asOf}.xlsx`);
      targets.push({ tmp: `${path}.partial`, path });
      await writeWorkbook(`${path}.partial`, stamp, perRule, items, ruleOf);
    } else {
      for (const ruleId of Object.keys(perRule)) {
        const rule = ruleOf(ruleId);
        const path = join(p.outDir, `${department}-${ruleId}-问题清单-${p.asOf}.csv`);
        targets.push({ tmp: `${path}.partial`, path });
        await writeCsv(
          `${path}.partial`,
          stamp,
          rule,
          items.filter((i) => i.rule_id === ruleId),
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
