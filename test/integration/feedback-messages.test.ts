/**
 * What a department reads when its answers are refused (issue 23): every message from reading and applying a
 * returned list is one line in Chinese naming the row (第N行), the column by its Chinese header and what was
 * expected; the only Latin letters are rule codes (R01…R13) and the file's own name. An upload's messages name
 * the file as the department named it, never the server's temporary file, and suggest no command-line option;
 * the command line may add one after the Chinese sentence.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { type FeedbackParams, importFeedback } from '../../src/delivery/import-feedback.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { personId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';

const AS_OF = '2026-11-24';
const log = silentLogger();
const dir = tempDir('ruralhub-feedback-messages-');
const outDir = join(dir, 'out');
let wh: Warehouse;

/** The findings the file answers: ids by name. */
const item: Record<'sent' | 'closed' | 'foreign' | 'twinA' | 'twinB', string> = {
  sent: '',
  closed: '',
  foreign: '',
  twinA: '',
  twinB: '',
};
const SENT_ID = personId(1);
const TWIN_ID = personId(4);
const NOBODY = personId(9);

/** Latin letters other than rule codes and the file's name: what must not be in a department's message. */
function latinIn(message: string, fileName: string): string[] {
  return (
    message
      .split(fileName)
      .join('')
      .replace(/R(0[1-9]|1[0-3])/g, '')
      .match(/[A-Za-z]+/g) ?? []
  );
}

const importAs = (file: string, p: Partial<FeedbackParams> = {}) =>
  importFeedback({ wh, file, asOf: AS_OF, outDir, log, ...p });

/** The message an import of `file` is refused with. */
async function refusal(file: string, p: Partial<FeedbackParams> = {}): Promise<string> {
  const err = await importAs(file, p).then(
    () => null,
    (e: unknown) => e as Error,
  );
  expect(err, file).not.toBeNull();
  return err!.message;
}

beforeAll(async () => {
  mkdirSync(outDir, { recursive: true });
  wh = await testWarehouse('feedback_messages');
  const run = await sql<{ id: string }>`
    INSERT INTO runs (kind, status) VALUES ('match', 'succeeded') RETURNING id::text AS id`.execute(wh.db);
  const runId = run.rows[0]!.id;
  const add = async (rule: string, key: string, department: string, state: string, idNumber: string) => {
    const r = await sql<{ id: string }>`
      INSERT INTO findings (rule_id, subject_key, subject_kind, department, state, id_number, name,
        first_seen_on, first_seen_run, last_seen_on, last_seen_run, deadline, sent_on, closed_on, close_reason)
      VALUES (${rule}, ${key}, 'person', ${department}, ${state}, ${idNumber}, '测试', '2026-11-01', ${runId},
        '2026-11-01', ${runId}, '2026-12-01', '2026-11-02',
        ${state === 'closed' ? '2026-11-10' : null}::date, ${state === 'closed' ? 'data' : null})
      RETURNING id::text AS id`.execute(wh.db);
    return r.rows[0]!.id;
  };
  item.sent = await add('R01', SENT_ID, '教育局', 'sent', SENT_ID);
  item.closed = await add('R01', personId(2), '教育局', 'closed', personId(2));
  item.foreign = await add('R02', personId(3), '医保局', 'sent', personId(3));
  // Two open items of one rule found by the same ID (subjects keyed otherwise): the ID alone cannot choose.
  item.twinA = await add('R01', `${TWIN_ID}-1`, '教育局', 'sent', TWIN_ID);
  item.twinB = await add('R01', `${TWIN_ID}-2`, '教育局', 'sent', TWIN_ID);
}, 120_000);
afterAll(async () => wh?.close());

describe('a returned list with one row of each kind of mistake', () => {
  const FILE = '教育局-问题清单-已填写.xlsx';

  async function badList(): Promise<string> {
    const wb = new ExcelJS.Workbook();
    const byItem = wb.addWorksheet('清单');
    byItem.addRow(['清单编号', '核实结果', '说明', '整改日期']);
    byItem.addRow([item.sent, '整改中', '正在联系家长', null]); // row 2: valid
    byItem.addRow(['12-34', '已整改', null, null]); // row 3: not an item number
    byItem.addRow(['999999999', '已整改', null, null]); // row 4: on no list
    byItem.addRow([item.foreign, '已整改', null, null]); // row 5: another department's
    byItem.addRow([item.closed, '已整改', null, null]); // row 6: already closed
    byItem.addRow([item.sent, null, '已联系', null]); // row 7: no answer, but a reason
    byItem.addRow([item.sent, '已处理', null, null]); // row 8: not one of the answers
    byItem.addRow([item.sent, '核实不属实', null, null]); // row 9: no reason
    byItem.addRow([item.sent, '已整改', null, '2026/13/45']); // row 10: not a date
    byItem.addRow([item.sent, '已整改', null, '2027-03-01']); // row 11: in the future
    byItem.addRow([item.sent, '已整改', null, '2026-11-20']); // row 12: answered differently than row 2
    byItem.addRow([item.sent, '整改中', '正在联系家长', null, '多余']); // row 13: beyond the header
    const own = wb.addWorksheet('我局核实情况');
    own.addRow(['规则编号', '身份证号', '核实结果', '说明/原因', '整改日期']);
    own.addRow(['99', SENT_ID, '已整改', null, null]); // row 2: not a rule
    own.addRow([null, SENT_ID, '已整改', null, null]); // row 3: neither item number nor rule
    own.addRow(['R01', null, '已整改', null, null]); // row 4: rule without an ID
    own.addRow(['R01', TWIN_ID, '已整改', null, null]); // row 5: two open items
    own.addRow(['R01', NOBODY, '已整改', null, null]); // row 6: nobody's
    const path = join(dir, 'upload-tmp-0001.xlsx');
    await wb.xlsx.writeFile(path);
    return path;
  }

  it('refuses each in one Chinese line naming its row, column and what was expected', async () => {
    const o = await importAs(await badList(), { department: '教育局', uploadedAs: FILE });
    expect(o.source).toBe(FILE);
    const lines = o.errors.map((e) => [e.sheet, e.row, e.field, e.message]);
    expect(lines).toEqual([
      ['清单', 3, '清单编号', '第3行 清单编号："12-34"不是清单编号，应为清单中该条目的数字编号'],
      ['清单', 4, '清单编号', '第4行 清单编号：999999999不在教育局的清单上，请核对清单编号'],
      ['清单', 5, '清单编号', `第5行 清单编号：${item.foreign}不在教育局的清单上，请核对清单编号`],
      ['清单', 6, '清单编号', `第6行 清单编号：${item.closed}已于2026-11-10销号，无需再填写核实结果`],
      ['清单', 7, '核实结果', '第7行 核实结果：未填写，应为"已整改"、"核实不属实"或"整改中"之一'],
      [
        '清单',
        8,
        '核实结果',
        '第8行 核实结果："已处理"不是可选的核实结果，应为"已整改"、"核实不属实"或"整改中"之一',
      ],
      ['清单', 9, '说明', '第9行 说明：核实结果为"核实不属实"时须填写原因'],
      ['清单', 10, '整改日期', `第10行 整改日期："2026/13/45"不是有效日期，应填写年-月-日，如${AS_OF}`],
      ['清单', 11, '整改日期', `第11行 整改日期：2027-03-01晚于本次登记日期${AS_OF}，应填写已完成整改的日期`],
      [
        '清单',
        12,
        '清单编号',
        `第12行 清单编号：${item.sent}在工作表"清单"第2行已有不同的答复，同一条目只能保留一个答复`,
      ],
      ['清单', 13, null, '第13行：该行在表头的4列之外还有内容，请删除多余的单元格'],
      ['我局核实情况', 2, '规则编号', '第2行 规则编号："99"不是规则编号，应为R01至R13之一'],
      ['我局核实情况', 3, '规则编号', '第3行 规则编号：未填清单编号时须填写规则编号（R01至R13）'],
      [
        '我局核实情况',
        4,
        '身份证号',
        '第4行 身份证号：未填清单编号时须填写身份证号（按户核查的规则可填户编号），才能找到R01的条目',
      ],
      [
        '我局核实情况',
        5,
        '身份证号',
        `第5行 身份证号：${TWIN_ID.slice(0, 4)}**********${TWIN_ID.slice(-4)}对应2条未销号的R01条目，请改填各条目的清单编号`,
      ],
      [
        '我局核实情况',
        6,
        '身份证号',
        `第6行 身份证号：教育局的R01清单上没有${NOBODY.slice(0, 4)}**********${NOBODY.slice(-4)}，请核对身份证号`,
      ],
    ]);
    for (const e of o.errors) {
      expect(latinIn(e.message, FILE), e.message).toEqual([]);
      expect(e.message).not.toMatch(/\n/);
      expect(e.message).not.toContain('upload-tmp');
    }
    // The history and the audit log name the file as the department named it, too.
    const audit = await wh.db
      .selectFrom('audit_log')
      .select('target')
      .where('action', '=', 'lists.feedback')
      .execute();
    expect(audit.map((a) => a.target)).toEqual([FILE]);
  });
});

describe('a file that cannot be taken as answers', () => {
  it('is refused in one Chinese line naming the file as the department named it', async () => {
    const notAList = writeCsv(join(dir, 'tmp-a.csv'), [
      ['姓名', '备注'],
      ['张三', '无'],
    ]);
    const damaged = join(dir, 'tmp-b.xlsx');
    writeFileSync(damaged, Buffer.from('PK\u0003\u0004 not a workbook'));
    const rowTooWide = writeCsv(join(dir, 'tmp-c.csv'), [
      ['清单编号', '核实结果'],
      [item.sent, '整改中', '多余', '多余'],
    ]);
    const cover = join(dir, 'tmp-d.xlsx');
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('说明').addRow(['部门', '教育局']);
    wb.addWorksheet('R01').addRow(['清单编号', '核实结果']);
    await wb.xlsx.writeFile(cover);

    const messages = [
      [await refusal(notAList, { department: '教育局', uploadedAs: '我的清单.csv' }), '我的清单.csv'],
      [await refusal(damaged, { department: '教育局', uploadedAs: '清单.xlsx' }), '清单.xlsx'],
      [await refusal(cover, { department: '医保局', uploadedAs: '教育局清单.xlsx' }), '教育局清单.xlsx'],
    ] as const;
    expect(messages.map(([m]) => m)).toEqual([
      '我的清单.csv：没有找到含"核实结果"列和"清单编号"列（或"规则编号"和"身份证号"列）的工作表；请上传从系统下载并填写好的清单',
      '清单.xlsx：无法读取，文件已损坏或不是表格文件；请上传从系统下载并填写好的清单',
      '教育局清单.xlsx：封面页写明这是教育局的清单，不是医保局的清单，不能作为医保局的核实结果导入',
    ]);
    const wide = await importAs(rowTooWide, { department: '教育局', uploadedAs: '反馈.csv' });
    expect(wide.errors.map((e) => e.message)).toEqual([
      '第2行：该行有4列，表头有2列，请检查是否多了或少了逗号',
    ]);
    for (const [m, name] of messages) {
      expect(latinIn(m, name), m).toEqual([]);
      expect(m).not.toContain(dir);
      expect(m).not.toContain('tmp-');
    }
  });

  it('on the command line, names its own file and may add the option after the Chinese sentence', async () => {
    const path = join(dir, '答复.csv');
    writeCsv(path, [
      ['清单编号', '核实结果', '说明'],
      [item.sent, '整改中', '正在核实'],
      [item.foreign, '整改中', '正在核实'],
    ]);
    const sentence =
      '答复.csv：没有封面页写明答复部门，且文件答复的条目不全在同一个部门的清单上（分属多个部门，或不在任何清单上），无法确定答复部门';
    expect(await refusal(path)).toBe(`${sentence}；请用 --department 指定答复部门`);
    // The same file uploaded without a department: the sentence alone.
    expect(await refusal(path, { uploadedAs: '答复.csv' })).toBe(sentence);
  });
});
