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
}

export interface RowError {
  sheet: string | undefined;
  row: number;
  field: string | null;
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

/** A row turned back: the column to correct (null: the whole row) and what to tell the department. */
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
    return new RowProblem(ITEM_ID_HEADER, `'${itemId}' is not an item id (a number from the list)`);
  }
  // The same words as for another department's item: an answer must not tell the two apart.
  return (
    byItemId(found, itemId) ??
    new RowProblem(ITEM_ID_HEADER, `item ${itemId} is not on ${department}'s list`, true)
  );
}

/** The item a row without 清单编号 answers: its rule and ID (or household number), on the department's list. */
function itemOfPerson(v: AnswerRow['values'], found: Found, department: Department, asOf: string) {
  const rule = v.rule_id ? parseRuleId(v.rule_id) : null;
  if (!rule) {
    return new RowProblem(
      '规则编号',
      v.rule_id
        ? `'${v.rule_id}' is not a rule id (${RULE_IDS[0]} … ${RULE_IDS.at(-1)})`
        : 'no 清单编号 and no 规则编号',
    );
  }
  const rawKey = v.id_number ?? v.household_id ?? v.head_id_number;
  if (!rawKey) {
    return new RowProblem(
      '身份证号',
      `no 清单编号, so 身份证号 (or 户编号 for household rules) is needed to find the ${rule} item`,
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
      `${maskIdNumber(key)} matches ${open.length} open ${rule} items; use their 清单编号`,
    );
  }
  return open[0] ?? own[0] ?? new RowProblem('身份证号', `no ${rule} item for ${maskIdNumber(key)}`, true);
}

/** The item still waits for this department's answer: on its list, and not closed. */
function awaitsAnswer(item: Candidate, department: Department): RowProblem | null {
  if (item.department !== department) {
    // Not whose list it is on: the error workbook goes back to the department.
    return new RowProblem(ITEM_ID_HEADER, `item ${item.id} is not on ${department}'s list`, true);
  }
  if (!transitionAllowed(item.state, 'feedback', 'feedback')) {
    return new RowProblem(
      ITEM_ID_HEADER,
      `item ${item.id} was already closed (销号) on ${item.closed_on}; no answer is needed`,
    );
  }
  return null;
}

/** 核实结果 one of the choices, and 说明 where the choice needs a reason. */
function answerOf(v: AnswerRow['values']): Pick<ValidAnswer, 'answer' | 'reason'> | RowProblem {
  if (!v.answer)
    return new RowProblem('核实结果', `核实结果 is empty; choose one of ${ANSWER_CHOICES.join(' / ')}`);
  const answer = parseAnswer(v.answer);
  if (!answer) return new RowProblem('核实结果', `'${v.answer}' is not one of ${ANSWER_CHOICES.join(' / ')}`);
  const reason = v.reason?.trim() || null;
  if (answer === 'not_an_issue' && !reason) {
    return new RowProblem(
      '说明',
      `${FEEDBACK_LABELS.not_an_issue} needs a reason in 说明 (e.g. 外地就读, 外省参保, 已死亡)`,
    );
  }
  return { answer, reason };
}

/** 整改日期, when given: a date, not after the day the answers are recorded on. */
function rectifiedOnOf(raw: string | undefined, asOf: string): string | null | RowProblem {
  if (!raw) return null;
  const d = parseDate(raw);
  if (!d?.ok) return new RowProblem('整改日期', `'${raw}' is not a date (expected YYYY-MM-DD)`);
  if (d.value > asOf) {
    return new RowProblem('整改日期', `${d.value} is in the future (answers are recorded as of ${asOf})`);
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
  if (r.problem) return new RowProblem(null, `the row could not be read: ${r.problem}`);
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
  const where = `${r.sheet ? `sheet '${r.sheet}' ` : ''}row ${r.row}`;
  return { findingId: item.id, ...answer, rectifiedOn, where };
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
    errors.push({ sheet: r.sheet, row: r.row, field, message, source: r, ...(refused ? { refused } : {}) });
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
          `item ${a.findingId} is answered differently on ${earlier.where}; keep one answer`,
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
  const file = await readAnswerFile(p.file);
  if (p.department && file.coverDepartment && p.department !== file.coverDepartment) {
    throw configError(
      `${file.source}: the cover sheet says ${file.coverDepartment}, but --department says ${p.department}`,
    );
  }
  const found = await candidatesFor(p.wh, file.rows, p.asOf);
  const named = file.coverDepartment ?? p.department ?? departmentFromName(p.file);
  const department = named ?? inferDepartment(file.rows, found, p.asOf);
  if (!department) {
    // Says nothing of which department any item is on: whoever sent the file may be another department, and
    // must not learn from an error who is on whose list.
    throw configError(
      `${file.source}: no cover sheet names the answering department, and the items it answers are not all on ` +
        "one department's list (items of more than one department, or items on no list); pass --department",
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
