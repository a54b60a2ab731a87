/**
 * An independent xlsx reader for contract tests: unzip (jszip) + XML (fast-xml-parser), no exceljs. It
 * reports each cell's stored type, so a test can tell an ID written as text from one written as a number,
 * and whether any cell holds a formula.
 */
import { readFile } from 'node:fs/promises';
import { XMLParser } from 'fast-xml-parser';
import JSZip from 'jszip';

export interface RawCell {
  ref: string;
  /** 's' shared string, 'inlineStr', 'str' formula string, 'n' number (the default), 'b', 'e'. */
  type: string;
  value: string | null;
  formula: string | null;
}

export interface RawSheet {
  name: string;
  /** Rows by 1-based row number; cells in column order. */
  rows: Map<number, RawCell[]>;
}

const ARRAYS = new Set(['sheet', 'Relationship', 'si', 'r', 'row', 'c']);
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  isArray: (name) => ARRAYS.has(name),
});

type Node = Record<string, unknown>;
const text = (n: unknown): string => {
  if (n === undefined || n === null) return '';
  if (typeof n === 'string' || typeof n === 'number') return String(n);
  const o = n as Node;
  if ('#text' in o) return String(o['#text']);
  if ('t' in o) return text(o.t);
  if ('r' in o) return (o.r as Node[]).map((r) => text(r.t)).join('');
  return '';
};

export async function readXlsxRaw(path: string): Promise<RawSheet[]> {
  const zip = await JSZip.loadAsync(await readFile(path));
  const xml = async (name: string) => {
    const f = zip.file(name);
    return f ? (parser.parse(await f.async('string')) as Node) : null;
  };
  const wb = (await xml('xl/workbook.xml'))!;
  const rels = (await xml('xl/_rels/workbook.xml.rels'))!;
  const targets = new Map(
    ((rels.Relationships as Node).Relationship as Node[]).map((r) => [
      r['@_Id'] as string,
      r['@_Target'] as string,
    ]),
  );
  const sst = await xml('xl/sharedStrings.xml');
  const shared = sst ? (((sst.sst as Node).si as Node[] | undefined)?.map(text) ?? []) : [];
  const out: RawSheet[] = [];
  for (const s of (wb.workbook as Node).sheets
    ? (((wb.workbook as Node).sheets as Node).sheet as Node[])
    : []) {
    const target = targets.get(s['@_r:id'] as string)!.replace(/^\/?(xl\/)?/, '');
    const doc = (await xml(`xl/${target}`))!;
    const rows = new Map<number, RawCell[]>();
    const data = (doc.worksheet as Node).sheetData as Node | string;
    for (const row of typeof data === 'object' ? ((data.row as Node[] | undefined) ?? []) : []) {
      const cells = ((row.c as Node[] | undefined) ?? []).map((c): RawCell => {
        const type = (c['@_t'] as string | undefined) ?? 'n';
        const v = c.v === undefined ? null : text(c.v);
        const value = type === 's' ? shared[Number(v)]! : type === 'inlineStr' ? text(c.is) : v;
        return { ref: c['@_r'] as string, type, value, formula: c.f === undefined ? null : text(c.f) };
      });
      rows.set(Number(row['@_r']), cells);
    }
    out.push({ name: s['@_name'] as string, rows });
  }
  return out;
}

/** Column letters of a cell reference: 'AB12' → 'AB'. */
export const columnOf = (ref: string) => ref.replace(/[0-9]+$/, '');
