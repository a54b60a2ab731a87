/**
 * The Word pieces the 月通报 (write-docx.ts) and the 个人信息保护影响评估 (assessment.ts) are made of, as county
 * offices set their documents: body 宋体 五号 (10.5 pt, in half-points), headings 黑体, table text 9 pt, landscape A4.
 * docx is loaded by the caller on first use (`await import('docx')`) and handed in.
 */
import type * as Docx from 'docx';

const BODY_FONT = '宋体';
const HEADING_FONT = '黑体';
const BODY_SIZE = 21;
const TABLE_SIZE = 18;

export type DocxBlock = Docx.Paragraph | Docx.Table;

export function docxParts(d: typeof Docx) {
  const font = (name: string) => ({ ascii: name, eastAsia: name, hAnsi: name });
  /** A paragraph of body text, or a heading (`heading`), in the document's fonts. */
  const para = (
    text: string,
    o: { bold?: boolean; size?: number; heading?: boolean; center?: boolean } = {},
  ) =>
    new d.Paragraph({
      alignment: o.center ? d.AlignmentType.CENTER : undefined,
      spacing: { before: o.heading ? 240 : 0, after: o.heading ? 120 : 60 },
      children: [
        new d.TextRun({
          text,
          bold: o.bold,
          size: o.size ?? BODY_SIZE,
          font: font(o.heading ? HEADING_FONT : BODY_FONT),
        }),
      ],
    });
  const cell = (text: string, o: { bold?: boolean; right?: boolean } = {}) =>
    new d.TableCell({
      children: [
        new d.Paragraph({
          alignment: o.right ? d.AlignmentType.RIGHT : d.AlignmentType.LEFT,
          children: [new d.TextRun({ text, bold: o.bold, size: TABLE_SIZE, font: font(BODY_FONT) })],
        }),
      ],
    });
  /** A full-width table whose header row repeats at the top of each page it runs onto. */
  const table = (headers: readonly string[], rows: readonly Docx.TableCell[][]) =>
    new d.Table({
      width: { size: 100, type: d.WidthType.PERCENTAGE },
      rows: [
        new d.TableRow({ tableHeader: true, children: headers.map((h) => cell(h, { bold: true })) }),
        ...rows.map((children) => new d.TableRow({ children })),
      ],
    });
  /** The document, landscape A4 (the reports' tables are wide), as the bytes of a .docx. */
  const docx = (title: string, body: DocxBlock[]) =>
    d.Packer.toBuffer(
      new d.Document({
        creator: 'RuralHub',
        title,
        sections: [
          { properties: { page: { size: { orientation: d.PageOrientation.LANDSCAPE } } }, children: body },
        ],
      }),
    );
  return { para, cell, table, docx };
}
