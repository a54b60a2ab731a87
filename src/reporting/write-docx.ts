/**
 * The 月通报 as a Word document: what the bureau circulates to the departments and townships, so it is always a
 * copy that leaves the bureau — village counts below 5 are shown as "<5" whatever copy the workbook is. The same
 * tables as the workbook (as Word tables, every row) and the same charts (PNG), a title, 统计截至 and 生成时间 in
 * the county's time. docx is loaded on first use, like exceljs.
 */
import { writeFile } from 'node:fs/promises';
import { formatLocal } from '../../core/clock.ts';
import { type DocxBlock, docxParts } from './docx-parts.ts';
import { cellText, isPercent, type ReportInput, reportTables } from './write-report.ts';

const NUMERALS = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];
const numbered = (n: number, title: string) => `${NUMERALS[n] ?? String(n + 1)}、${title}`;

export function docxTitle(county: string, month: string): string {
  return `${county}防止返贫监测数据比对月通报（${month}）`;
}

export async function writeReportDocx(path: string, input: ReportInput): Promise<void> {
  const d = await import('docx');
  const shared: ReportInput = { ...input, bureauCopy: false };
  const range = input.findings.range;
  const { para, cell, table, docx } = docxParts(d);
  const body: DocxBlock[] = [
    para(docxTitle(input.county, range.month), { bold: true, size: 36, heading: true, center: true }),
    para(`统计截至：${range.cutoff}`, { center: true }),
    para(`生成时间：${formatLocal(input.timeZone, input.generatedAt)}（${input.timeZone}）`, {
      center: true,
    }),
    para('村级数字小于5的显示为"<5"。', { center: true }),
  ];
  const tables = reportTables(shared);
  tables.forEach((t, n) => {
    body.push(para(numbered(n, t.title), { heading: true, size: 28 }));
    if (!t.rows.length) {
      body.push(para('（无）'));
      return;
    }
    body.push(
      table(
        t.headers,
        t.rows.map((r) => r.map((c) => cell(cellText(c), { right: typeof c === 'number' || isPercent(c) }))),
      ),
    );
    for (const n of t.notes ?? []) body.push(para(`说明：${n}`));
  });
  if (input.charts.length) {
    body.push(para(numbered(tables.length, '图表'), { heading: true, size: 28 }));
    for (const c of input.charts) {
      body.push(
        new d.Paragraph({
          alignment: d.AlignmentType.CENTER,
          children: [
            new d.ImageRun({
              type: 'png',
              data: c.png,
              transformation: { width: c.width, height: c.height },
            }),
          ],
        }),
        para(c.title, { center: true }),
      );
    }
  }
  // landscape: the 整改情况 table has twelve columns
  await writeFile(path, await docx(docxTitle(input.county, range.month), body));
}
