/**
 * A flat ODS (.fods) document written here, for LibreOffice to convert into the .xlsx and .xls a department
 * would send (test/support/libreoffice.ts): the sheets as a person lays them out, merged cells included, so a
 * test reads what LibreOffice itself writes for them rather than what a library thinks it would.
 */
import { writeFileSync } from 'node:fs';

/** A cell: its text, and how many columns and rows it is merged over (1 when not given). */
export interface FodsCell {
  text: string;
  across?: number;
  down?: number;
}

export interface FodsSheet {
  name: string;
  hidden?: boolean;
  /**
   * Rows of cells from A1 on. null is an empty cell; a cell covered by a merge above or to its left is left out
   * of its row (the writer puts the covered cells in), so a row lists only the cells a person typed into.
   */
  rows: readonly (readonly (FodsCell | string | null)[])[];
}

const xmlText = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The cells of each row in place, covered cells included, from the merges of the rows above and to the left. */
function tableXml(sheet: FodsSheet): string {
  const covered = new Set<string>();
  const rows = sheet.rows.map((cells, r) => {
    const out: string[] = [];
    let col = 0;
    const skipCovered = () => {
      while (covered.has(`${r}:${col}`)) {
        out.push('<table:covered-table-cell/>');
        col++;
      }
    };
    for (const given of cells) {
      skipCovered();
      const cell = typeof given === 'string' ? { text: given } : given;
      if (cell === null) out.push('<table:table-cell/>');
      else {
        const across = cell.across ?? 1;
        const down = cell.down ?? 1;
        for (let dr = 0; dr < down; dr++)
          for (let dc = 0; dc < across; dc++) if (dr || dc) covered.add(`${r + dr}:${col + dc}`);
        const span =
          across > 1 || down > 1
            ? ` table:number-columns-spanned="${across}" table:number-rows-spanned="${down}"`
            : '';
        out.push(
          `<table:table-cell${span} office:value-type="string"><text:p>${xmlText(cell.text)}</text:p></table:table-cell>`,
        );
      }
      col++;
    }
    skipCovered();
    return `<table:table-row>${out.join('')}</table:table-row>`;
  });
  return `<table:table table:name="${xmlText(sheet.name)}" table:style-name="${sheet.hidden ? 'hidden' : 'shown'}">${rows.join('')}</table:table>`;
}

/** Writes the sheets, in order, as a flat ODS document at `path`. */
export function writeFods(path: string, sheets: readonly FodsSheet[]): string {
  writeFileSync(
    path,
    `<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
<office:automatic-styles>
 <style:style style:name="shown" style:family="table"><style:table-properties table:display="true"/></style:style>
 <style:style style:name="hidden" style:family="table"><style:table-properties table:display="false"/></style:style>
</office:automatic-styles>
<office:body><office:spreadsheet>
${sheets.map(tableXml).join('\n')}
</office:spreadsheet></office:body></office:document>
`,
  );
  return path;
}
