/**
 * `ruralhub lists feedback`: a department's answers come back (DOMAIN §7). Every row is validated; valid
 * answers are applied in one transaction with their history rows and the audit row; invalid rows are
 * reported with sheet, row and problem, and written to an error workbook the department can correct and
 * send back. Applying the same file twice changes nothing (an answer equal to the stored one is no change).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { configError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { isRuleId, RULE_IDS, type RuleId } from '../../pipelines/rules/index.ts';
import {
  DEPARTMENTS,
  type Department,
  FEEDBACK_ANSWERS,
  FEEDBACK_LABELS,
  type FeedbackAnswer,
} from '../../schemas/vocab.ts';
import { insertFindingEvents } from '../findings/events.ts';
import { transitionAllowed } from '../findings/states.ts';
import { maskIdNumber, normalizeIdNumber, parseDate } from '../normalize/index.ts';
import { writeAudit } from '../warehouse/audit.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import { loadExcel } from './excel.ts';
import { ANSWER_CHOICES, ITEM_ID_HEADER } from './export-lists.ts';
import { neutralizeCell } from './neutralize.ts';
import { type AnswerRow, readAnswerFile } from './read-answers.ts';

export interface FeedbackParams {
  wh: Warehouse;
  file: string;
  /**
   * The answering department. Without it, the file's cover sheet names it, or its name begins with it, or
   * else it is the one department whose list holds every item the file answers (inferDepartment).
   */
  department?: Department;
  /** Date the answers are recorded on; rectification dates after it are rejected. */
  asOf: string;
  /** Where the error workbook goes. */
  outDir: string;
  log: Logger;
  actor?: string;
  /** The remote address of the API or console upload, for the audit log. */
  clientAddr?: string | null;
  /**
   * The name an uploaded file had on the department's computer (API and console): every message, the audit
   * row and the history name it, never `file` (a temporary file on the server), and no message suggests a
   * command-line option. Without it the file is the CLI's: its own name, and a hint naming --department.
   */
  uploadedAs?: string;
}

export interface RowError {
  sheet: string | undefined;
  row: number;
  /** The column to correct, by its Chinese header; null: the whole row. */
  field: string | null;
  /** One line in Chinese for the department: `第5行 说明：核实结果为"核实不属实"时须填写原因`. */
  message: string;
  /** An answer about an item that is not the department's (or not at all): a refused access, audited as one. */
  refused?: boolean;
}

export interface FeedbackOutcome {
  source: string;
  department: Department;
  /** Rows carrying an answer. */
  answered: number;
  /** Findings whose answer changed (state → feedback). */
  applied: number;
  /** Valid answers equal to what is already stored. */
  unchanged: number;
  /** Rows without any answer yet. */
  unanswered: number;
  errors: RowError[];
  errorFile: string | null;
}

interface Candidate {
  id: string;
  rule_id: string;
  department: string;
  state: string;
  closed_on: string | null;
  subject_key: string;
  id_number: string | null;
  household_id: string | null;
}

interface ValidAnswer {
  findingId: string;
  answer: FeedbackAnswer;
  reason: string | null;
  rectifiedOn: string | null;
  where: string;
}

const SPACES = /[\s\u3000]+/g;
/** Our item ids (清单编号): the finding's id, a number of at most 18 digits. */
const ITEM_ID = /^[0-9]{1,18}$/;
const BY_LABEL = new Map<string, FeedbackAnswer>([
  ...FEEDBACK_ANSWERS.map((a) => [FEEDBACK_LABELS[a], a] as const),
  ...FEEDBACK_ANSWERS.map((a) => [a, a] as const),
]);

function parseAnswer(raw: string): FeedbackAnswer | null {
  return BY_LABEL.get(raw.normalize('NFKC').replace(SPACES, '')) ?? null;
}

/** 'R1', 'r01', ' R01 ' → 'R01'. */
function parseRuleId(raw: string): RuleId | null {
  const m = /^R?0*([0-9]{1,2})$/i.exec(raw.normalize('NFKC').replace(SPACES, ''));
  const id = m ? `R${m[1]!.padStart(2, '0')}` : null;
  return id && isRuleId(id) ? id : null;
}

/** The ID or household number a department typed, in the form findings store it. */
function subjectKey(raw: string, asOf: string): string {
  const id = normalizeIdNumber(raw, { today: asOf });
  return id.id ?? raw.normalize('NFKC').replace(SPACES, '').toUpperCase();
}

async function candidatesFor(wh: Warehouse, rows: AnswerRow[], asOf: string) {
  const itemIds = rows.map((r) => r.values.item_id).filter((v): v is string => !!v && ITEM_ID.test(v));
  const pairs = rows
    .filter((r) => !r.values.item_id && r.values.rule_id)
    .map((r) => {
      const key = r.values.id_number ?? r.values.household_id ?? r.values.head_id_number;
      return { rule: parseRuleId(r.values.rule_id!), key: key ? subjectKey(key, asOf) : null };
    })
    .filter((p): p is { rule: RuleId; key: string } => !!p.rule && !!p.key);
  const cols = sql`f.id::text AS id, f.rule_id, f.department, f.state, f.closed_on::text AS closed_on,
    f.subject_key, f.id_number, f.household_id`;
  const byId = await sql<Candidate>`
    SELECT ${cols} FROM findings f WHERE f.id = ANY(${itemIds}::bigint[])`.execute(wh.db);
  const byKey = await sql<Candidate & { rule: string; key: string }>`
    SELECT ${cols}, k.rule, k.key
    FROM unnest(${pairs.map((p) => p.rule)}::text[], ${pairs.map((p) => p.key)}::text[]) AS k(rule, key)
    JOIN findings f ON f.rule_id = k.rule
      AND (f.subject_key = k.key OR f.id_number = k.key OR f.household_id = k.key)`.execute(wh.db);
  const keyed = new Map<string, Candidate[]>();
  for (const c of byKey.rows) {
    const k = `${c.rule}|${c.key}`;
    if (!keyed.get(k)?.some((x) => x.id === c.id)) keyed.set(k, [...(keyed.get(k) ?? []), c]);
  }
  return { byId: new Map(byId.rows.map((c) => [c.id, c])), keyed };
}

/** The answers a department may give, as it reads them: `"已整改"、"核实不属实"或"整改中"`. */
const CHOICES_TEXT = `${ANSWER_CHOICES.slice(0, -1)
  .map((c) => `"${c}"`)
  .join('、')}或"${ANSWER_CHOICES.at(-1)}"`;

/** Where a row is, as the department finds it in its file: `工作表"清单"第3行`, or `第3行` in a CSV. */
const rowPlace = (r: AnswerRow) => `${r.sheet ? `工作表"${r.sheet}"` : ''}第${r.row}行`;

/**
 * A row turned back: the column to correct (null: the whole row) and what to tell the department, in Chinese
 * and without the row (the line adds it: `第5行 说明：…`).
 */
class RowProblem {
  constructor(
    readonly field: string | null,
    readonly message: string,
    /** About an item that is not the department's (or nobody's): a refused access, audited as one. */
    readonly refused = false,
  ) {}
}

type Found = Awaited<ReturnType<typeof candidatesFor>>;

/** The finding a well-formed 清单编号 names, if any. */
const byItemId = (found: Found, itemId: string): Candidate | undefined =>
  ITEM_ID.test(itemId) ? found.byId.get(String(BigInt(itemId))) : undefined;

/** The findings of a rule about a person or household (`key` as subjectKey gives it). */
const byRuleAndKey = (found: Found, rule: RuleId, key: string): Candidate[] =>
  found.keyed.get(`${rule}|${key}`) ?? [];

/** The item a row answers by its 清单编号. */
function itemNamed(itemId: string, found: Found, department: Department): Candidate | RowProblem {
  if (!ITEM_ID.test(itemId)) {
    return new RowProblem(ITEM_ID_HEADER, `"${itemId}"不是清单编号，应为清单中该条目的数字编号`);
  }
  // The same words as for another department's item: an answer must not tell the two apart.
  return byItemId(found, itemId) ?? notOnList(itemId, department);
}

/** An item that is not the department's, or nobody's: one wording for both, so no answer tells them apart. */
function notOnList(itemId: string, department: Department): RowProblem {
  return new RowProblem(ITEM_ID_HEADER, `${itemId}不在${department}的清单上，请核对清单编号`, true);
}

/** The item a row without 清单编号 answers: its rule and ID (or household number), on the department's list. */
function itemOfPerson(v: AnswerRow['values'], found: Found, department: Department, asOf: string) {
  const rule = v.rule_id ? parseRuleId(v.rule_id) : null;
  if (!rule) {
    return new RowProblem(
      '规则编号',
      v.rule_id
        ? `"${v.rule_id}"不是规则编号，应为${RULE_IDS[0]}至${RULE_IDS.at(-1)}之一`
        : `未填${ITEM_ID_HEADER}时须填写规则编号（${RULE_IDS[0]}至${RULE_IDS.at(-1)}）`,
    );
  }
  const rawKey = v.id_number ?? v.household_id ?? v.head_id_number;
  if (!rawKey) {
    return new RowProblem(
      '身份证号',
      `未填${ITEM_ID_HEADER}时须填写身份证号（按户核查的规则可填户编号），才能找到${rule}的条目`,
    );
  }
  const key = subjectKey(rawKey, asOf);
  // Only the department's own items: whether another department's list holds this person is not theirs to
  // learn, from a count of matches nor from an error naming the other list.
  const own = byRuleAndKey(found, rule, key).filter((c) => c.department === department);
  const open = own.filter((c) => c.state !== 'closed');
  if (open.length > 1) {
    return new RowProblem(
      '身份证号',
      `${maskIdNumber(key)}对应${open.length}条未销号的${rule}条目，请改填各条目的${ITEM_ID_HEADER}`,
    );
  }
  return (
    open[0] ??
    own[0] ??
    new RowProblem('身份证号', `${department}的${rule}清单上没有${maskIdNumber(key)}，请核对身份证号`, true)
  );
}

/** The item still waits for this department's answer: on its list, and not closed. */
function awaitsAnswer(item: Candidate, department: Department): RowProblem | null {
  if (item.department !== department) {
    // Not whose list it is on: the error workbook goes back to the department.
    return notOnList(item.id, department);
  }
  if (!transitionAllowed(item.state, 'feedback', 'feedback')) {
    return new RowProblem(ITEM_ID_HEADER, `${item.id}已于${item.closed_on}销号，无需再填写核实结果`);
  }
  return null;
}

/** 核实结果 one of the choices, and 说明 where the choice needs a reason. */
function answerOf(v: AnswerRow['values']): Pick<ValidAnswer, 'answer' | 'reason'> | RowProblem {
  if (!v.answer) return new RowProblem('核实结果', `未填写，应为${CHOICES_TEXT}之一`);
  const answer = parseAnswer(v.answer);
  if (!answer) return new RowProblem('核实结果', `"${v.answer}"不是可选的核实结果，应为${CHOICES_TEXT}之一`);
  const reason = v.reason?.trim() || null;
  if (answer === 'not_an_issue' && !reason) {
    return new RowProblem('说明', `核实结果为"${FEEDBACK_LABELS.not_an_issue}"时须填写原因`);
  }
  return { answer, reason };
}

/** 整改日期, when given: a date, not after the day the answers are recorded on. */
function rectifiedOnOf(raw: string | undefined, asOf: string): string | null | RowProblem {
  if (!raw) return null;
  const d = parseDate(raw);
  if (!d?.ok) return new RowProblem('整改日期', `"${raw}"不是有效日期，应填写年-月-日，如${asOf}`);
  if (d.value > asOf) {
    return new RowProblem('整改日期', `${d.value}晚于本次登记日期${asOf}，应填写已完成整改的日期`);
  }
  return d.value;
}

/** One row's answer, or the first reason it cannot be applied, in the order a department would correct them. */
function checkRow(
  r: AnswerRow,
  found: Found,
  department: Department,
  asOf: string,
): ValidAnswer | RowProblem {
  if (r.problem) return new RowProblem(null, r.problem);
  const v = r.values;
  // Identify the item: our item id, or rule + ID / household number on a sheet of the department's own.
  const item = v.item_id ? itemNamed(v.item_id, found, department) : itemOfPerson(v, found, department, asOf);
  if (item instanceof RowProblem) return item;
  const waiting = awaitsAnswer(item, department);
  if (waiting) return waiting;
  const answer = answerOf(v);
  if (answer instanceof RowProblem) return answer;
  const rectifiedOn = rectifiedOnOf(v.rectified_on, asOf);
  if (rectifiedOn instanceof RowProblem) return rectifiedOn;
  return { findingId: item.id, ...answer, rectifiedOn, where: rowPlace(r) };
}

const sameAnswer = (a: ValidAnswer, b: ValidAnswer) =>
  a.answer === b.answer && a.reason === b.reason && a.rectifiedOn === b.rectifiedOn;

/**
 * The rows' answers that can be applied, and the errors of the others. An item answered twice alike counts once;
 * answered twice differently, neither answer is applied.
 */
function validate(
  rows: AnswerRow[],
  found: Found,
  department: Department,
  asOf: string,
): { valid: ValidAnswer[]; errors: (RowError & { source: AnswerRow })[] } {
  const errors: (RowError & { source: AnswerRow })[] = [];
  const fail = (r: AnswerRow, { field, message, refused }: RowProblem) =>
    errors.push({
      sheet: r.sheet,
      row: r.row,
      field,
      message: `第${r.row}行${field ? ` ${field}` : ''}：${message}`,
      source: r,
      ...(refused ? { refused } : {}),
    });
  const first = new Map<string, ValidAnswer>();
  const conflicting = new Set<string>();
  for (const r of rows) {
    const a = checkRow(r, found, department, asOf);
    if (a instanceof RowProblem) {
      fail(r, a);
      continue;
    }
    const earlier = first.get(a.findingId);
    if (!earlier) first.set(a.findingId, a);
    else if (!sameAnswer(earlier, a)) {
      fail(
        r,
        new RowProblem(
          ITEM_ID_HEADER,
          `${a.findingId}在${earlier.where}已有不同的答复，同一条目只能保留一个答复`,
        ),
      );
      conflicting.add(a.findingId);
    }
  }
  return { valid: [...first.values()].filter((a) => !conflicting.has(a.findingId)), errors };
}

async function writeErrorWorkbook(path: string, errors: (RowError & { source: AnswerRow })[]) {
  const Excel = await loadExcel();
  const wb: ExcelJS.Workbook = new Excel.Workbook();
  wb.creator = 'RuralHub';
  const bySheet = new Map<string, typeof errors>();
  for (const e of errors) {
    const k = e.sheet ?? '清单';
    bySheet.set(k, [...(bySheet.get(k) ?? []), e]);
  }
  for (const [sheet, list] of bySheet) {
    const ws = wb.addWorksheet(`错误-${sheet}`.slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.addRow(['原行号', '错误说明', ...list[0]!.source.header]).font = { bold: true };
    for (const e of list) ws.addRow([e.row, e.message, ...e.source.cells].map(neutralizeCell));
    ws.getColumn(2).width = 60;
    list[0]!.source.header.forEach((h, i) => {
      if (/身份证|编号|户号/.test(h)) ws.getColumn(i + 3).numFmt = '@';
    });
  }
  await wb.xlsx.writeFile(path);
}

/**
 * The one department whose list holds every item the file answers that is on any list (by 清单编号, or by
 * 规则编号 + 身份证号 / 户编号 — a person on a rule that routes to several departments counts for each of them);
 * null when they are of more than one department, or none is found. Items on no list do not decide: they are
 * reported row by row once the department is known.
 */
function inferDepartment(rows: AnswerRow[], found: Found, asOf: string): Department | null {
  // Per department, how many of the rows whose item was found it holds: it must hold all of them.
  const holds = new Map<string, number>();
  let rowsFound = 0;
  for (const r of rows) {
    if (r.problem) continue;
    const v = r.values;
    let items: Candidate[] = [];
    if (v.item_id) {
      const item = byItemId(found, v.item_id);
      items = item ? [item] : [];
    } else {
      const rule = v.rule_id ? parseRuleId(v.rule_id) : null;
      const rawKey = v.id_number ?? v.household_id ?? v.head_id_number;
      if (rule && rawKey) items = byRuleAndKey(found, rule, subjectKey(rawKey, asOf));
    }
    if (!items.length) continue;
    rowsFound++;
    for (const d of new Set(items.map((c) => c.department))) holds.set(d, (holds.get(d) ?? 0) + 1);
  }
  const all = [...holds].filter(([, n]) => n === rowsFound).map(([d]) => d);
  const only = rowsFound > 0 && all.length === 1 ? all[0]! : null;
  return only && (DEPARTMENTS as readonly string[]).includes(only) ? (only as Department) : null;
}

export async function importFeedback(p: FeedbackParams): Promise<FeedbackOutcome> {
  const file = await readAnswerFile(p.file, p.uploadedAs);
  // A hint about the command's options, after the Chinese sentence, on the command line only.
  const cli = p.uploadedAs === undefined;
  if (p.department && file.coverDepartment && p.department !== file.coverDepartment) {
    throw configError(
      `${file.source}：封面页写明这是${file.coverDepartment}的清单，不是${p.department}的清单，不能作为${p.department}的核实结果导入` +
        (cli ? `（--department ${p.department}）` : ''),
    );
  }
  const found = await candidatesFor(p.wh, file.rows, p.asOf);
  const named = file.coverDepartment ?? p.department ?? departmentFromName(p.file);
  const department = named ?? inferDepartment(file.rows, found, p.asOf);
  if (!department) {
    // Says nothing of which department any item is on: whoever sent the file may be another department, and
    // must not learn from an error who is on whose list.
    throw configError(
      `${file.source}：没有封面页写明答复部门，且文件答复的条目不全在同一个部门的清单上（分属多个部门，或不在任何清单上），无法确定答复部门` +
        (cli ? '；请用 --department 指定答复部门' : ''),
    );
  }
  const sha256 = createHash('sha256')
    .update(await readFile(p.file))
    .digest('hex');
  const { valid, errors } = validate(file.rows, found, department, p.asOf);

  const applied = await p.wh.db.transaction().execute(async (trx) => {
    const changed = await sql<{ n: number }>`
      WITH a AS (
        SELECT * FROM unnest(${valid.map((v) => v.findingId)}::bigint[], ${valid.map((v) => v.answer)}::text[],
          ${valid.map((v) => v.reason)}::text[], ${valid.map((v) => v.rectifiedOn)}::date[])
          AS a(id, answer, reason, rectified_on)),
      o AS (
        SELECT f.id, f.state AS from_state FROM findings f JOIN a ON a.id = f.id
        WHERE f.state <> 'closed'
          AND (f.feedback, f.feedback_reason, f.rectified_on) IS DISTINCT FROM (a.answer, a.reason, a.rectified_on)
        FOR UPDATE OF f),
      u AS (
        UPDATE findings f SET state = 'feedback', feedback = a.answer, feedback_reason = a.reason,
          rectified_on = a.rectified_on, feedback_on = ${p.asOf}::date
        FROM a, o WHERE f.id = a.id AND o.id = a.id
        RETURNING f.id, o.from_state, f.feedback),
      ev AS (${insertFindingEvents({
        from: sql`u`,
        fromState: sql`from_state`,
        toState: 'feedback',
        reason: sql`'answer ' || feedback || ' from ' || ${file.source}::text`,
        onDate: p.asOf,
      })})
      SELECT count(*)::int AS n FROM u`.execute(trx);
    const n = changed.rows[0]!.n;
    await writeAudit(trx, {
      actor: p.actor ?? 'cli',
      role: 'department',
      department,
      action: 'lists.feedback',
      target: file.source,
      rowCount: n,
      details: {
        sha256,
        answered: file.rows.length,
        valid: valid.length,
        applied: n,
        errors: errors.length,
        as_of: p.asOf,
      },
      clientAddr: p.clientAddr ?? null,
    });
    const refused = errors.filter((e) => e.refused);
    if (refused.length) {
      // Asking about items not on one's own list is an access attempt the bureau wants to see, as a 403 is.
      await writeAudit(trx, {
        actor: p.actor ?? 'cli',
        role: 'department',
        department,
        action: 'access.denied',
        target: `lists.feedback ${file.source}`,
        rowCount: refused.length,
        details: { rows: refused.map((e) => `${e.sheet ?? ''}!${e.row}`) },
        clientAddr: p.clientAddr ?? null,
      });
    }
    return n;
  });

  let errorFile: string | null = null;
  if (errors.length) {
    errorFile = join(p.outDir, `${basename(p.file, extname(p.file))}-错误-${p.asOf}.xlsx`);
    await writeErrorWorkbook(errorFile, errors);
  }
  p.log.info(
    {
      source: file.source,
      department,
      ...(named ? {} : { department_from: 'items' }),
      applied,
      errors: errors.length,
      unanswered: file.unanswered,
    },
    'feedback imported',
  );
  return {
    source: file.source,
    department,
    answered: file.rows.length,
    applied,
    unchanged: valid.length - applied,
    unanswered: file.unanswered,
    errors: errors.map(({ sheet, row, field, message }) => ({ sheet, row, field, message })),
    errorFile,
  };
}

/** Our own list files start with the department's name (`教育局-问题清单-2026-11-24.xlsx`). */
function departmentFromName(path: string): Department | null {
  const name = basename(path);
  return (DEPARTMENTS.find((d) => name.startsWith(`${d}-`)) as Department | undefined) ?? null;
}
