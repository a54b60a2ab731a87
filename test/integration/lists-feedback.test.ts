/**
 * Department lists and the feedback loop (DOMAIN §7–§9) on the demo county: the exported files read back by
 * an independent reader (contract per rule), formula neutralization, the CSV variant, a round trip of
 * answers, every malformed answer reported by row, bureau review with suppression, and the audit log.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { RULE_IDS, RULES, ruleById } from '../../pipelines/rules/index.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { exportLists, type ListFile, listHeaders, PURPOSE } from '../../src/delivery/export-lists.ts';
import { importFeedback } from '../../src/delivery/import-feedback.ts';
import { decideReviews, pendingReviews } from '../../src/delivery/review.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { loadDemoCounty } from '../support/demo.ts';
import { tempDir } from '../support/files.ts';
import { auditCount, auditTrail, findingMoves, testWarehouse } from '../support/warehouse.ts';
import { readXlsxRaw } from '../support/xlsx-reader.ts';

const AS_OF = '2026-11-24';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-lists-');
const outDir = join(dir, 'out');
let wh: Warehouse;
let files: ListFile[];

const FORMULA_NAMES = ['=1+2', '@SUM(A1)', '+86 138', '-1'];

async function openFindings(department?: string) {
  let q = wh.db
    .selectFrom('findings')
    .select(['id', 'rule_id', 'department', 'id_number', 'name', 'state', 'feedback', 'feedback_reason'])
    .where('state', '<>', 'closed')
    .orderBy('id');
  if (department) q = q.where('department', '=', department);
  return q.execute();
}

beforeAll(async () => {
  wh = await testWarehouse('lists');
  const imports = await loadDemoCounty(wh, { dir, persons: 1200, seed: 5, asOf: AS_OF, config, log });
  for (const s of imports) expect(s.status).toBe('succeeded');
  // Names that a spreadsheet would execute: the list must neutralize them, the warehouse keep them.
  const r01 = await wh.db
    .selectFrom('findings')
    .select('id')
    .where('rule_id', '=', 'R01')
    .orderBy('id')
    .limit(FORMULA_NAMES.length)
    .execute();
  for (const [i, f] of r01.entries()) {
    await wh.db.updateTable('findings').set({ name: FORMULA_NAMES[i]! }).where('id', '=', f.id).execute();
  }
  files = await exportLists({ wh, outDir, asOf: AS_OF, log });
}, 240_000);
afterAll(async () => wh?.close());

describe('department lists', () => {
  it('hold, per rule, exactly the disclosed columns, IDs as 18-character text and no formula', async () => {
    const all = await openFindings();
    const seenRules = new Set<string>();
    for (const f of files) {
      const sheets = await readXlsxRaw(f.paths[0]!);
      const cover = sheets[0]!;
      const coverText = [...cover.rows.values()].flat().map((c) => c.value);
      expect(coverText).toContain(f.department);
      expect(coverText).toContain(PURPOSE);
      expect(coverText).toContain(f.version);
      // The export time as the county reads it: local time, zone named (not UTC ISO text).
      expect(
        coverText.some((v) => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \(Asia\/Shanghai\)$/.test(String(v))),
      ).toBe(true);
      const mine = all.filter((x) => x.department === f.department);
      expect(sheets.slice(1).map((s) => s.name.slice(0, 3))).toEqual([
        ...new Set(mine.map((x) => x.rule_id)),
      ]);
      for (const sheet of sheets.slice(1)) {
        const ruleId = sheet.name.slice(0, 3);
        seenRules.add(ruleId);
        const rule = ruleById(ruleId)!;
        const [header, ...body] = [...sheet.rows.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
        expect(header!.map((c) => c.value)).toEqual(listHeaders(rule));
        const items = mine.filter((x) => x.rule_id === ruleId);
        expect(body.length).toBe(items.length);
        const idCol = header!.findIndex((c) => c.value === '身份证号' || c.value === '户主身份证号');
        const byId = new Map(items.map((x) => [String(x.id), x]));
        for (const row of body) {
          for (const cell of row) {
            expect(cell.formula).toBeNull();
            expect(cell.value ?? '').not.toMatch(/^[=+\-@\t\r]/);
          }
          const item = byId.get(row[0]!.value!)!;
          expect(item, `item ${row[0]!.value}`).toBeDefined();
          expect(['s', 'inlineStr', 'str']).toContain(row[0]!.type);
          if (idCol >= 0 && item.id_number) {
            const cell = row.find((c) => c.ref.startsWith(header![idCol]!.ref.replace(/[0-9]+$/, '')))!;
            expect(['s', 'inlineStr', 'str']).toContain(cell.type);
            expect(cell.value).toBe(item.id_number);
            expect(cell.value).toHaveLength(18);
          }
        }
      }
    }
    expect([...seenRules].sort()).toEqual([...RULE_IDS]);
  });

  it('neutralize formula-looking text in the file and keep the raw value in the warehouse', async () => {
    const edu = files.find((f) => f.department === '教育局')!;
    const sheet = (await readXlsxRaw(edu.paths[0]!)).find((s) => s.name.startsWith('R01'))!;
    const names = [...sheet.rows.values()].flat().map((c) => c.value);
    for (const n of FORMULA_NAMES) expect(names).toContain(`'${n}`);
    const stored = await wh.db
      .selectFrom('findings')
      .select('name')
      .where('name', 'in', FORMULA_NAMES)
      .execute();
    expect(stored.map((s) => s.name).sort()).toEqual([...FORMULA_NAMES].sort());
  });

  it('mark exported items sent once; exporting again sends nothing twice', async () => {
    const sent = await findingMoves(wh, 'sent');
    expect(sent).toBe(files.reduce((n, f) => n + f.items, 0));
    const states = await openFindings();
    expect(new Set(states.map((s) => s.state))).toEqual(new Set(['sent']));
    const again = await exportLists({ wh, outDir: join(dir, 'again'), asOf: AS_OF, log });
    expect(await findingMoves(wh, 'sent')).toBe(sent);
    expect(again.find((f) => f.department === '教育局')!.version).toBe(`教育局-${AS_OF}-2`);
  });

  it('as CSV: one UTF-8 file with BOM per rule, IDs intact, formulas neutralized', async () => {
    const [edu] = await exportLists({
      wh,
      outDir: join(dir, 'csv'),
      asOf: AS_OF,
      log,
      department: '教育局',
      rules: ['R01'],
      format: 'csv',
    });
    expect(edu!.paths).toHaveLength(1);
    const bytes = readFileSync(edu!.paths[0]!);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).split('\r\n');
    // The header first (any program imports the table); the purpose in the last line (list-workbook.test.ts).
    expect(lines[0]).toBe(listHeaders(RULES.R01).join(','));
    expect(lines.at(-2)).toMatch(new RegExp(`^说明：${PURPOSE}。接收部门：教育局；`));
    const items = (await openFindings('教育局')).filter((f) => f.rule_id === 'R01');
    expect(lines.filter((l) => /^[0-9]+,/.test(l))).toHaveLength(items.length);
    for (const i of items) expect(lines.some((l) => l.includes(`,${i.id_number},`))).toBe(true);
    expect(lines.some((l) => l.includes(",'=1+2,"))).toBe(true);
  });
});

describe('feedback', () => {
  it('applies answers from a re-sorted list with a deleted column; the same file twice changes nothing', async () => {
    const edu = files.find((f) => f.department === '教育局')!;
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(edu.paths[0]!);
    const ws = wb.worksheets.find((w) => w.name.startsWith('R01'))!;
    const header = (ws.getRow(1).values as unknown[]).slice(1) as string[];
    const rows: unknown[][] = [];
    ws.eachRow((r, n) => {
      if (n > 1) rows.push((r.values as unknown[]).slice(1));
    });
    // The department re-sorts, deletes 姓名, and answers with stray spaces.
    rows.reverse();
    const nameCol = header.indexOf('姓名');
    const answerCol = header.indexOf('核实结果') - 1;
    const keep = (cells: unknown[]) => cells.filter((_, i) => i !== nameCol);
    const answers: [string, string | null, string | null][] = [
      ['已整改 ', null, '2026-11-20'],
      ['　核实不属实', '外地就读', null],
      ['整改中', '正在联系家长', null],
    ];
    const answered = rows.slice(0, 3).map((r, i) => {
      const cells = [...r];
      while (cells.length < header.length) cells.push(null);
      [cells[answerCol + 1], cells[answerCol + 2], cells[answerCol + 3]] = answers[i]!;
      return cells;
    });
    wb.removeWorksheet(ws.id);
    const back = wb.addWorksheet('R01 returned');
    back.addRow(keep(header));
    for (const r of [...answered, ...rows.slice(3)]) back.addRow(keep(r));
    const path = join(dir, '教育局-returned.xlsx');
    await wb.xlsx.writeFile(path);

    const first = await importFeedback({ wh, file: path, asOf: AS_OF, outDir, log });
    expect(first).toMatchObject({ department: '教育局', answered: 3, applied: 3, unchanged: 0, errors: [] });
    const ids = answered.map((r) => Number(r[0]));
    const sid = ids.map(String);
    const after = await wh.db
      .selectFrom('findings')
      .select(['id', 'state', 'feedback', 'feedback_reason', 'rectified_on'])
      .where('id', 'in', ids)
      .execute();
    const byId = new Map(after.map((a) => [Number(a.id), a]));
    expect(byId.get(ids[0]!)).toMatchObject({
      state: 'feedback',
      feedback: 'rectified',
      rectified_on: '2026-11-20',
    });
    expect(byId.get(ids[1]!)).toMatchObject({
      state: 'feedback',
      feedback: 'not_an_issue',
      feedback_reason: '外地就读',
    });
    expect(byId.get(ids[2]!)).toMatchObject({ state: 'feedback', feedback: 'in_progress' });

    const second = await importFeedback({ wh, file: path, asOf: AS_OF, outDir, log });
    expect(second).toMatchObject({ applied: 0, unchanged: 3, errors: [] });
    expect(await findingMoves(wh, 'feedback')).toBe(3);

    // Review: the bureau accepts 核实不属实; the item is closed by review and the matcher, which still finds
    // the child off the roll, does not reopen it inside the suppression period.
    const queue = await pendingReviews(wh, '教育局');
    expect(queue.map((q) => q.id)).toEqual([sid[1]]);
    expect(
      await decideReviews({ wh, ids: [sid[1]!], decision: 'accept', asOf: AS_OF, actor: 'test' }),
    ).toEqual([sid[1]]);
    await runMatch({ wh, config, log, asOf: '2026-12-01', rules: ['R01'], force: true });
    const reviewed = await wh.db
      .selectFrom('findings')
      .select(['state', 'close_reason', 'last_seen_on'])
      .where('id', '=', ids[1]!)
      .executeTakeFirstOrThrow();
    expect(reviewed).toMatchObject({ state: 'closed', close_reason: 'review', last_seen_on: '2026-12-01' });
    // The rectified and in-progress answers stay as answered while the data still shows the problem.
    const stillAnswered = await wh.db
      .selectFrom('findings')
      .select('state')
      .where('id', 'in', [ids[0]!, ids[2]!])
      .execute();
    expect(stillAnswered.map((s) => s.state)).toEqual(['feedback', 'feedback']);
  });

  it('reports every malformed answer with its sheet, row and problem, and applies only the valid rows', async () => {
    const edu = (await openFindings('教育局')).filter((f) => f.state === 'sent' && f.rule_id === 'R01');
    const health = (await openFindings('医保局'))[0]!;
    const [a, b, c, d, e] = edu;
    const wb = new ExcelJS.Workbook();
    const own = wb.addWorksheet('我局核实情况');
    own.addRow(['教育局 疑点核实情况汇总']); // a title row above the header
    own.addRow(['规则编号', '身份证号', '核实结果', '说明/原因', '整改日期']);
    own.addRow(['r1', ` ${a!.id_number!.toLowerCase()} `, '已整改', null, '2026-11-01']); // row 3: valid
    own.addRow(['R01', '110105194912310021', '已整改', null, null]); // row 4: no such item
    const byId = wb.addWorksheet('清单');
    byId.addRow(['清单编号', '核实结果', '说明', '整改日期']);
    byId.addRow(['999999999', '已整改', null, null]); // row 2: unknown item
    byId.addRow([String(health.id), '已整改', null, null]); // row 3: another department's item
    byId.addRow([String(b!.id), '已处理', null, null]); // row 4: answer not in the vocabulary
    byId.addRow([String(c!.id), '核实不属实', null, null]); // row 5: no reason
    byId.addRow([String(d!.id), '已整改', null, '2027-03-01']); // row 6: future date
    byId.addRow([String(e!.id), '整改中', '联系中', '2026/13/45']); // row 7: not a date
    byId.addRow([String(a!.id), '已整改', null, '2026-11-01']); // row 8: same answer again: fine
    byId.addRow([null, null, null, null]);
    byId.addRow([String(b!.id), null, null, null]); // not answered yet: not an error
    const path = join(dir, 'answers-own-sheet.xlsx');
    await wb.xlsx.writeFile(path);

    const o = await importFeedback({ wh, file: path, department: '教育局', asOf: AS_OF, outDir, log });
    expect(o.applied).toBe(1);
    expect(o.unanswered).toBe(1);
    const problems = o.errors.map((x) => [x.sheet, x.row, x.field, x.message]);
    expect(problems).toEqual([
      [
        '我局核实情况',
        4,
        '身份证号',
        '第4行 身份证号：教育局的R01清单上没有1101**********0021，请核对身份证号',
      ],
      ['清单', 2, '清单编号', '第2行 清单编号：999999999不在教育局的清单上，请核对清单编号'],
      // Not whose list it is on: the error workbook goes back to the department.
      ['清单', 3, '清单编号', `第3行 清单编号：${health.id}不在教育局的清单上，请核对清单编号`],
      [
        '清单',
        4,
        '核实结果',
        '第4行 核实结果："已处理"不是可选的核实结果，应为"已整改"、"核实不属实"或"整改中"之一',
      ],
      ['清单', 5, '说明', '第5行 说明：核实结果为"核实不属实"时须填写原因'],
      ['清单', 6, '整改日期', `第6行 整改日期：2027-03-01晚于本次登记日期${AS_OF}，应填写已完成整改的日期`],
      ['清单', 7, '整改日期', `第7行 整改日期："2026/13/45"不是有效日期，应填写年-月-日，如${AS_OF}`],
    ]);
    const applied = await wh.db
      .selectFrom('findings')
      .select(['state', 'feedback', 'rectified_on'])
      .where('id', '=', a!.id)
      .executeTakeFirstOrThrow();
    expect(applied).toEqual({ state: 'feedback', feedback: 'rectified', rectified_on: '2026-11-01' });
    const untouched = await wh.db
      .selectFrom('findings')
      .select('state')
      .where('id', 'in', [b!.id, c!.id, d!.id, e!.id])
      .execute();
    expect(untouched.map((u) => u.state)).toEqual(['sent', 'sent', 'sent', 'sent']);
    // The three answers about items that are not 教育局's (or nobody's) are a refused access, audited as one.
    const denied = await wh.db
      .selectFrom('audit_log')
      .select(['department', 'row_count', 'details'])
      .where('action', '=', 'access.denied')
      .where('target', '=', 'lists.feedback answers-own-sheet.xlsx')
      .execute();
    expect(denied.map((d) => [d.department, d.row_count])).toEqual([['教育局', 3]]);
    expect(JSON.stringify(denied[0]!.details)).not.toMatch(/[0-9]{17}[0-9X]/);

    // The error workbook holds the rejected rows as sent, with the problem, for the department to correct.
    const errs = await readXlsxRaw(o.errorFile!);
    expect(errs.map((s) => [s.name, s.rows.size])).toEqual([
      ['错误-我局核实情况', 2],
      ['错误-清单', 7],
    ]);
    expect(errs[1]!.rows.get(2)!.map((c) => c.value)).toEqual([
      '2',
      '第2行 清单编号：999999999不在教育局的清单上，请核对清单编号',
      '999999999',
      '已整改',
    ]);
  });

  it('writes one append-only audit row per action', async () => {
    expect(await auditCount(wh, 'lists.export')).toBe(files.length * 2 + 1);
    expect(await auditCount(wh, 'lists.feedback')).toBe(3);
    expect(await auditCount(wh, 'findings.review.accept')).toBe(1);
    const feedback = await auditTrail(wh, 'lists.feedback', ['department', 'row_count', 'target']);
    expect(feedback).toEqual([
      { department: '教育局', row_count: 3, target: '教育局-returned.xlsx' },
      { department: '教育局', row_count: 0, target: '教育局-returned.xlsx' },
      { department: '教育局', row_count: 1, target: 'answers-own-sheet.xlsx' },
    ]);
    await expect(sql`UPDATE audit_log SET actor = 'x'`.execute(wh.db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM audit_log`.execute(wh.db)).rejects.toThrow(/append-only/);
    await expect(sql`TRUNCATE audit_log`.execute(wh.db)).rejects.toThrow(/append-only/);
  });
});

describe('feedback without a cover sheet or --department', () => {
  /** A returned list with no cover sheet, under a name that names no department: answers by item id or rule + ID. */
  async function answers(
    name: string,
    byItem: readonly string[],
    byRule: readonly { rule: string; id: string }[] = [],
  ): Promise<string> {
    const wb = new ExcelJS.Workbook();
    const items = wb.addWorksheet('清单');
    items.addRow(['清单编号', '核实结果', '说明', '整改日期']);
    for (const id of byItem) items.addRow([id, '整改中', '正在核实', null]);
    if (byRule.length) {
      const own = wb.addWorksheet('我局核实情况');
      own.addRow(['规则编号', '身份证号', '核实结果', '说明/原因']);
      for (const r of byRule) own.addRow([r.rule, r.id, '整改中', '正在核实']);
    }
    const path = join(dir, name);
    await wb.xlsx.writeFile(path);
    return path;
  }

  it('takes the department whose list holds every item the file answers', async () => {
    const sent = (await openFindings('教育局')).filter((f) => f.state === 'sent' && f.id_number);
    const [a, b, c] = sent.slice(-3);
    const path = await answers(
      'returned-no-cover.xlsx',
      [String(a!.id), String(b!.id), '999999999'], // an item on no list does not decide; it is reported
      [{ rule: c!.rule_id, id: c!.id_number! }],
    );
    const o = await importFeedback({ wh, file: path, asOf: AS_OF, outDir, log });
    expect(o).toMatchObject({ department: '教育局', answered: 4, applied: 3 });
    expect(o.errors.map((e) => e.message)).toEqual([
      '第4行 清单编号：999999999不在教育局的清单上，请核对清单编号',
    ]);
    const states = await wh.db
      .selectFrom('findings')
      .select(['state', 'feedback'])
      .where('id', 'in', [a!.id, b!.id, c!.id])
      .execute();
    expect(states).toEqual(Array(3).fill({ state: 'feedback', feedback: 'in_progress' }));
  });

  it('reads a returned list saved as Excel 97–2003 (.xls), as older office software saves it', async () => {
    const sent = (await openFindings('教育局')).filter((f) => f.state === 'sent');
    const [a, b] = sent.slice(0, 2);
    const X = await import('@e965/xlsx');
    const book = X.utils.book_new();
    X.utils.book_append_sheet(
      book,
      X.utils.aoa_to_sheet([
        ['清单编号', '核实结果', '说明', '整改日期'],
        [String(a!.id), '整改中', '已联系家长', null],
        [String(b!.id), '核实不属实', '已转学外省', null],
      ]),
      '清单',
    );
    const path = join(dir, '教育局-returned.xls');
    writeFileSync(path, X.write(book, { type: 'buffer', bookType: 'biff8' }) as Buffer);
    const o = await importFeedback({ wh, file: path, asOf: AS_OF, outDir, log, department: '教育局' });
    expect(o).toMatchObject({ department: '教育局', answered: 2, applied: 2, errors: [] });
    const states = await wh.db
      .selectFrom('findings')
      .select(['id', 'feedback', 'feedback_reason'])
      .where('id', 'in', [a!.id, b!.id])
      .orderBy('id')
      .execute();
    expect(states.map((r) => [r.feedback, r.feedback_reason])).toEqual([
      ['in_progress', '已联系家长'],
      ['not_an_issue', '已转学外省'],
    ]);
  });

  it("refuses items of more than one department's list, or none on a list, without saying whose they are", async () => {
    const eduOpen = await openFindings('教育局');
    const edu = eduOpen.find((f) => f.state === 'sent' && f.id_number)!;
    // On a rule of 医保局's only: 规则编号 + 身份证号 then finds no 教育局 item to share the row with.
    const eduRules = new Set(eduOpen.map((f) => f.rule_id));
    const health = (await openFindings('医保局')).find((f) => f.id_number && !eduRules.has(f.rule_id))!;
    const mixed = [
      await answers('returned-mixed.xlsx', [String(edu.id), String(health.id)]),
      await answers(
        'returned-mixed-by-id.xlsx',
        [String(edu.id)],
        [{ rule: health.rule_id, id: health.id_number! }],
      ),
      await answers('returned-unknown.xlsx', ['999999999']),
    ];
    for (const path of mixed) {
      const err = await importFeedback({ wh, file: path, asOf: AS_OF, outDir, log }).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toBe(
        `${basename(path)}：没有封面页写明答复部门，且文件答复的条目不全在同一个部门的清单上（分属多个部门，或不在任何清单上），无法确定答复部门；请用 --department 指定答复部门`,
      );
      // Neither a department nor an item nor an ID: nothing of whose list holds whom.
      for (const leak of [
        '教育局',
        '医保局',
        String(edu.id),
        String(health.id),
        edu.id_number!,
        health.id_number!,
      ])
        expect(err!.message).not.toContain(leak);
    }
    const untouched = await wh.db
      .selectFrom('findings')
      .select('state')
      .where('id', '=', edu.id)
      .executeTakeFirstOrThrow();
    expect(untouched.state).toBe('sent');
  });
});
