/**
 * Large benchmark workbooks written from the roster CSV as a stream, in the layouts real writers use: an .xlsx
 * with every text cell in the shared string table (what Excel, WPS and openpyxl write: the reader must hold the
 * table), one with inline strings (exceljs's streaming writer, some department systems), and a BIFF8 .xls
 * (SheetJS's writer; 65,536 rows a sheet at most, so larger files get more sheets).
 */
import { createReadStream, createWriteStream, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import JSZip from 'jszip';

const NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The CSV's lines split into cells (the bench roster has no quoted fields), header first. */
export async function* csvRows(csv: string, rows: number): AsyncGenerator<string[]> {
  let n = 0;
  for await (const line of createInterface({
    input: createReadStream(csv, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    if (n++ > rows) break;
    yield line.split(',');
  }
}

async function write(out: ReturnType<typeof createWriteStream>, s: string) {
  if (!out.write(s)) await new Promise<void>((r) => out.once('drain', () => r()));
}

const end = (out: ReturnType<typeof createWriteStream>) =>
  new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));

export async function writeXlsx(
  path: string,
  csv: string,
  rows: number,
  sharedStrings: boolean,
): Promise<void> {
  const sheetFile = `${path}.sheet.xml`;
  const out = createWriteStream(sheetFile);
  const index = new Map<string, number>();
  await write(
    out,
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="${NS}"><sheetData>`,
  );
  let r = 0;
  for await (const cells of csvRows(csv, rows)) {
    r++;
    let xml = `<row r="${r}">`;
    for (const v of cells) {
      if (v === '') continue;
      if (!sharedStrings) xml += `<c t="inlineStr"><is><t>${esc(v)}</t></is></c>`;
      else {
        let i = index.get(v);
        if (i === undefined) {
          i = index.size;
          index.set(v, i);
        }
        xml += `<c t="s"><v>${i}</v></c>`;
      }
    }
    await write(out, `${xml}</row>`);
  }
  await write(out, '</sheetData></worksheet>');
  await end(out);
  const zip = new JSZip();
  zip.file(
    '[Content_Types].xml',
    '<?xml version="1.0" encoding="UTF-8"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
  );
  zip.file(
    '_rels/.rels',
    `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
  );
  zip.file('xl/worksheets/sheet1.xml', createReadStream(sheetFile));
  if (sharedStrings) {
    zip.file(
      'xl/sharedStrings.xml',
      // bytes: jszip encodes a long string in pieces and can split a surrogate pair between two of them
      Buffer.from(
        `<sst xmlns="${NS}" uniqueCount="${index.size}">${[...index.keys()].map((s) => `<si><t>${esc(s)}</t></si>`).join('')}</sst>`,
      ),
    );
  }
  // after the sheets, as openpyxl lays the package out
  zip.file(
    'xl/workbook.xml',
    `<workbook xmlns="${NS}" xmlns:r="${REL}"><sheets><sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>`,
  );
  zip.file(
    'xl/_rels/workbook.xml.rels',
    `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/>${
      sharedStrings ? `<Relationship Id="rId2" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/>` : ''
    }</Relationships>`,
  );
  await new Promise<void>((resolve, reject) =>
    zip
      .generateNodeStream({ type: 'nodebuffer', streamFiles: true, compression: 'DEFLATE' })
      .pipe(createWriteStream(path))
      .on('finish', () => resolve())
      .on('error', reject),
  );
}

/** BIFF8 through SheetJS: the header and up to 65,535 data rows a sheet. */
export async function writeXls(path: string, csv: string, rows: number): Promise<void> {
  const X = await import('@e965/xlsx');
  const book = X.utils.book_new();
  let header: string[] | null = null;
  let sheet: string[][] = [];
  const flush = () => {
    X.utils.book_append_sheet(book, X.utils.aoa_to_sheet(sheet), `名单${book.SheetNames.length + 1}`);
    sheet = [];
  };
  for await (const cells of csvRows(csv, rows)) {
    if (!header) header = cells;
    if (!sheet.length) sheet.push(header);
    if (cells !== header) sheet.push(cells);
    if (sheet.length === 65_536) flush();
  }
  if (sheet.length > 1) flush();
  writeFileSync(path, X.write(book, { type: 'buffer', bookType: 'biff8' }) as Buffer);
}
