/**
 * Writes a minimal .xlsx package by hand (jszip), for tests that need what no library writer gives on demand:
 * exact text (exceljs's Workbook writer splits a surrogate pair now and then, writing U+FFFD into the file — as
 * does jszip itself when handed a string: it encodes long strings in pieces, so every part goes to it as bytes), the parts in another order (xl/workbook.xml last, as openpyxl writes it), shared or inline strings,
 * hidden sheets, the 1904 date system, prefixed element names.
 */
import { writeFileSync } from 'node:fs';
import JSZip from 'jszip';

export type BuiltCell =
  | string
  | number
  | null
  | { serial: number; style: number }
  | { formula: string; cached: string };

export interface BuiltSheet {
  name: string;
  rows: BuiltCell[][];
  state?: 'hidden' | 'veryHidden';
}

export interface BuildOptions {
  sharedStrings?: boolean;
  /** Write xl/workbook.xml and its relationships after the sheets. */
  workbookLast?: boolean;
  date1904?: boolean;
  /** Element prefix for SpreadsheetML elements (`x` gives `<x:row>`), as some .NET writers do. */
  prefix?: string;
  /** Omit the `r` attributes of rows and cells. */
  noRefs?: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const colName = (i: number): string =>
  i < 26 ? String.fromCharCode(65 + i) : colName(Math.floor(i / 26) - 1) + colName(i % 26);
const NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

export async function buildXlsx(path: string, sheets: BuiltSheet[], o: BuildOptions = {}): Promise<void> {
  const p = o.prefix ? `${o.prefix}:` : '';
  const xmlns = o.prefix ? `xmlns:${o.prefix}="${NS}"` : `xmlns="${NS}"`;
  const strings: string[] = [];
  const index = new Map<string, number>();
  const sheetXml = sheets.map((sheet) => {
    const rows = sheet.rows.map((row, r) => {
      const cells = row.map((v, c) => {
        if (v === null) return '';
        const ref = o.noRefs ? '' : ` r="${colName(c)}${r + 1}"`;
        if (typeof v === 'number') return `<${p}c${ref}><${p}v>${v}</${p}v></${p}c>`;
        if (typeof v === 'object' && 'serial' in v)
          return `<${p}c${ref} s="${v.style}"><${p}v>${v.serial}</${p}v></${p}c>`;
        if (typeof v === 'object')
          return `<${p}c${ref} t="str"><${p}f>${esc(v.formula)}</${p}f><${p}v>${esc(v.cached)}</${p}v></${p}c>`;
        if (!o.sharedStrings)
          return `<${p}c${ref} t="inlineStr"><${p}is><${p}t xml:space="preserve">${esc(v)}</${p}t></${p}is></${p}c>`;
        let i = index.get(v);
        if (i === undefined) {
          i = strings.length;
          strings.push(v);
          index.set(v, i);
        }
        return `<${p}c${ref} t="s"><${p}v>${i}</${p}v></${p}c>`;
      });
      return `<${p}row${o.noRefs ? '' : ` r="${r + 1}"`}>${cells.join('')}</${p}row>`;
    });
    return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<${p}worksheet ${xmlns}><${p}sheetData>${rows.join('')}</${p}sheetData></${p}worksheet>`;
  });
  const jszip = new JSZip();
  // bytes, never strings: see above
  const zip = { file: (name: string, text: string) => jszip.file(name, Buffer.from(text, 'utf8')) };
  const workbookParts = () => {
    zip.file(
      'xl/workbook.xml',
      `<?xml version="1.0" encoding="UTF-8"?>\n<${p}workbook ${xmlns} xmlns:r="${REL}">${o.date1904 ? `<${p}workbookPr date1904="1"/>` : ''}<${p}sheets>${sheets
        .map(
          (s, i) =>
            `<${p}sheet name="${esc(s.name)}" sheetId="${i + 1}"${s.state ? ` state="${s.state}"` : ''} r:id="rId${i + 1}"/>`,
        )
        .join('')}</${p}sheets></${p}workbook>`,
    );
    zip.file(
      'xl/_rels/workbook.xml.rels',
      `<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${sheets
        .map(
          (_, i) =>
            `<Relationship Id="rId${i + 1}" Type="${REL}/worksheet" Target="worksheets/sheet${i + 1}.xml"/>`,
        )
        .join('')}<Relationship Id="rS" Type="${REL}/styles" Target="styles.xml"/>${
        o.sharedStrings
          ? `<Relationship Id="rT" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/>`
          : ''
      }</Relationships>`,
    );
  };
  zip.file(
    '[Content_Types].xml',
    '<?xml version="1.0" encoding="UTF-8"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/></Types>',
  );
  zip.file(
    '_rels/.rels',
    `<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
  );
  if (!o.workbookLast) workbookParts();
  sheetXml.forEach((x, i) => {
    zip.file(`xl/worksheets/sheet${i + 1}.xml`, x);
  });
  // style 0: General; 1: built-in 14 (a date); 2: a custom 年月日 format
  zip.file(
    'xl/styles.xml',
    `<?xml version="1.0" encoding="UTF-8"?>\n<styleSheet xmlns="${NS}"><numFmts count="1"><numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts><cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="176"/></cellXfs></styleSheet>`,
  );
  if (o.sharedStrings) {
    zip.file(
      'xl/sharedStrings.xml',
      `<?xml version="1.0" encoding="UTF-8"?>\n<${p}sst ${xmlns} count="${strings.length}" uniqueCount="${strings.length}">${strings
        .map((s) => `<${p}si><${p}t xml:space="preserve">${esc(s)}</${p}t></${p}si>`)
        .join('')}</${p}sst>`,
    );
  }
  if (o.workbookLast) workbookParts();
  writeFileSync(path, await jszip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
}
