/**
 * A department's list as a spreadsheet program sees it (issues 23 and 27): one validation per answer column
 * over exactly the data rows, autofilter, frozen header, print titles, landscape fit to width, protection with
 * only the answer cells open, widths that fit the text — and the purpose, recipient, version, export time and
 * exporter on every sheet, in the document properties and in every CSV. Then the same files through LibreOffice
 * headless: its CSV of every sheet equals the cells we wrote, and a copy it saves keeps the validations and
 * the rest, and still reads back as answers.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { RULES } from '../../pipelines/rules/index.ts';
import {
  ANSWER_HEADERS,
  exportLists,
  type ListFile,
  type ListStamp,
  listHeaders,
  PURPOSE,
  stampLine,
} from '../../src/delivery/export-lists.ts';
import { readAnswerFile } from '../../src/delivery/read-answers.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testId } from '../support/demo.ts';
import { tempDir } from '../support/files.ts';
import { CSV_ALL_SHEETS, convertWithSoffice, findSoffice, SOFFICE_MISSING } from '../support/libreoffice.ts';
import { testWarehouse } from '../support/warehouse.ts';
import { readXlsxRaw } from '../support/xlsx-reader.ts';

const AS_OF = '2026-11-24';
const EXPORTER = 'test-exporter';
const log = silentLogger();
const dir = tempDir('ruralhub-listbook-');
const SOFFICE = findSoffice();
let wh: Warehouse;
let files: ListFile[];

/** Twelve items on 教育局's R01 sheet: more than eight, where exceljs used to write two overlapping ranges. */
const NAMES = ['张𠀀', '=1+2', '欧阳娜娜', 'Ayşe'];
const PROBLEM = '学籍显示辍学，未在送教上门名单';
const LONG_PROBLEM = '学籍显示辍学，未在送教上门名单，家长称已随父母外出务工地就读但没有办理转学手续';

beforeAll(async () => {
  wh = await testWarehouse('listbook');
  const run = await wh.db
    .insertInto('runs')
    .values({ kind: 'match', status: 'succeeded' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const base = {
    subject_kind: 'person',
    first_seen_on: '2026-10-01',
    first_seen_run: run.id,
    last_seen_on: AS_OF,
    last_seen_run: run.id,
    deadline: '2026-10-31',
    state: 'open',
    township: '青山乡',
    village: '新村',
  };
  const child = (i: number) => testId(i + 1, '52010220150101');
  await wh.db
    .insertInto('findings')
    .values([
      ...NAMES.flatMap((name, k) =>
        [0, 1, 2].map((j) => {
          const i = k * 3 + j;
          return {
            ...base,
            rule_id: 'R01',
            department: '教育局',
            subject_key: child(i),
            id_number: child(i),
            household_id: `52010200400100${String(i).padStart(2, '0')}`,
            name,
            details: JSON.stringify({
              birth_date: '2015-01-01',
              roll_status: '辍学',
              school_name: '第一中学（初中部）',
              problem: i === 5 ? LONG_PROBLEM : PROBLEM,
            }),
            // Two items already answered: a returned copy that keeps their answers changes nothing.
            ...(i === 1
              ? {
                  state: 'feedback',
                  feedback: 'in_progress' as const,
                  feedback_reason: '已联系家长，正在劝返',
                }
              : i === 2
                ? { state: 'feedback', feedback: 'rectified' as const, rectified_on: '2026-11-20' }
                : {}),
          };
        }),
      ),
      ...[1, 2, 3].map((n) => ({
        ...base,
        rule_id: 'R02',
        department: '医保局',
        subject_key: testId(n),
        id_number: testId(n),
        household_id: `5201020040020${n}`,
        name: '李四',
        details: JSON.stringify({
          birth_date: '1980-01-01',
          insurance_year: '2026',
          status_this_year: '暂停参保',
        }),
      })),
    ])
    .execute();
  files = await exportLists({
    wh,
    outDir: join(dir, 'xlsx'),
    asOf: AS_OF,
    log,
    actor: EXPORTER,
    timeZone: 'Asia/Shanghai',
  });
}, 120_000);
afterAll(async () => wh?.close());

// --- reading the package: jszip + fast-xml-parser, independent of exceljs ------------------------------------

type Node = Record<string, unknown>;
const ARRAYS = new Set(['sheet', 'Relationship', 'dataValidation', 'definedName', 'xf', 'col', 'row', 'c']);
const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  isArray: (name) => ARRAYS.has(name),
});

interface Sheet {
  name: string;
  /** The sheet's path in the package, e.g. xl/worksheets/sheet2.xml. */
  part: string;
  ws: Node;
}
interface Book {
  zip: JSZip;
  sheets: Sheet[];
  definedNames: { name: string; localSheetId: string | undefined; text: string }[];
  /** Whether cellXfs[i] unlocks its cells. */
  unlocked: boolean[];
  core: Node;
}

const text = (n: unknown): string =>
  typeof n === 'object' && n !== null ? String((n as Node)['#text'] ?? '') : String(n ?? '');

async function openBook(path: string): Promise<Book> {
  const zip = await JSZip.loadAsync(readFileSync(path));
  const part = async (name: string) => xml.parse(await zip.file(name)!.async('string')) as Node;
  const wb = (await part('xl/workbook.xml')).workbook as Node;
  const rels = new Map(
    (((await part('xl/_rels/workbook.xml.rels')).Relationships as Node).Relationship as Node[]).map((r) => [
      r['@_Id'] as string,
      r['@_Target'] as string,
    ]),
  );
  const sheets: Sheet[] = [];
  for (const s of (wb.sheets as Node).sheet as Node[]) {
    const target = `xl/${rels.get(s['@_r:id'] as string)!.replace(/^\/?(xl\/)?/, '')}`;
    sheets.push({ name: s['@_name'] as string, part: target, ws: (await part(target)).worksheet as Node });
  }
  const definedNames = (((wb.definedNames as Node | undefined)?.definedName as Node[] | undefined) ?? []).map(
    (d) => ({
      name: d['@_name'] as string,
      localSheetId: d['@_localSheetId'] as string | undefined,
      text: text(d),
    }),
  );
  const xfs = (((await part('xl/styles.xml')).styleSheet as Node).cellXfs as Node).xf as Node[];
  // exceljs writes locked="0", LibreOffice locked="false".
  const unlocked = xfs.map((x) =>
    ['0', 'false'].includes((x.protection as Node | undefined)?.['@_locked'] as string),
  );
  return {
    zip,
    sheets,
    definedNames,
    unlocked,
    core: (await part('docProps/core.xml'))['cp:coreProperties'] as Node,
  };
}

const letter = (col: number) => String.fromCharCode(64 + col); // lists have fewer than 27 columns
const ruleOf = (sheet: string) => RULES[sheet.slice(0, 3) as keyof typeof RULES];

/** The stamp a file was exported with; the export time read back from its cover sheet. */
async function stampOf(f: ListFile): Promise<ListStamp> {
  const cover = (await readXlsxRaw(f.paths[0]!))[0]!;
  const row = [...cover.rows.values()].find((r) => r[0]?.value === '导出时间')!;
  const exportedAt = row[1]!.value!;
  expect(exportedAt).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \(Asia\/Shanghai\)$/);
  return { department: f.department, version: f.version, asOf: AS_OF, exportedAt, exporter: EXPORTER };
}

/**
 * What every copy of a list keeps, whoever saved it last: per rule sheet one validation per answer column over
 * exactly the data rows, the autofilter over header and rows with its _FilterDatabase name, print titles, the
 * protection with exactly the answer cells unlocked, landscape fit to width; on every sheet the print header
 * and footer with purpose and recipient; the document properties.
 */
async function expectListStructure(path: string, f: ListFile, stamp: ListStamp) {
  const book = await openBook(path);
  const yes = ['1', 'true'];
  expect(book.sheets.map((s) => s.name.slice(0, 3))).toEqual(['说明', ...Object.keys(f.perRule)]);
  for (const [k, sheet] of book.sheets.entries()) {
    const { ws } = sheet;
    const hf = ws.headerFooter as Node;
    expect(text(hf.oddHeader)).toBe(`&L${PURPOSE}&R接收部门：${f.department}`);
    expect(text(hf.oddFooter)).toBe(
      `&L清单版本：${f.version}  导出时间：${stamp.exportedAt}  导出人：${EXPORTER}&R第 &P 页，共 &N 页`,
    );
    expect(yes).toContain((ws.sheetProtection as Node)['@_sheet']);
    // No password: protection guards against slips and is lifted without one.
    expect(Object.keys(ws.sheetProtection as Node).filter((a) => /password|hash/i.test(a))).toEqual([]);
    if (k === 0) continue;
    const rule = ruleOf(sheet.name);
    const headers = listHeaders(rule);
    const last = f.perRule[rule.id]! + 1;
    const lastCol = letter(headers.length);
    const answerCols = ANSWER_HEADERS.map((h) => letter(headers.indexOf(h) + 1));
    const validations = (ws.dataValidations as Node).dataValidation as Node[];
    expect(validations.map((v) => v['@_sqref'])).toEqual(answerCols.map((c) => `${c}2:${c}${last}`));
    expect(validations.map((v) => v['@_type'] ?? 'none')).toEqual(['list', 'none', 'date']);
    expect(text(validations[0]!.formula1)).toBe('"已整改,核实不属实,整改中"');
    expect((ws.autoFilter as Node)['@_ref']).toBe(`A1:${lastCol}${last}`);
    const quoted = `'${sheet.name}'`;
    // In any order: exceljs writes the filter's name first, LibreOffice the print titles.
    const names = book.definedNames.filter((d) => d.localSheetId === String(k));
    expect(names.sort((x, y) => (x.name < y.name ? -1 : 1))).toEqual([
      { name: '_xlnm.Print_Titles', localSheetId: String(k), text: `${quoted}!$1:$1` },
      { name: '_xlnm._FilterDatabase', localSheetId: String(k), text: `${quoted}!$A$1:$${lastCol}$${last}` },
    ]);
    expect((ws.pageSetup as Node)['@_orientation']).toBe('landscape');
    expect((ws.pageSetup as Node)['@_fitToWidth']).toBe('1');
    expect((ws.pageSetup as Node)['@_fitToHeight']).toBe('0');
    expect(yes).toContain(((ws.sheetPr as Node).pageSetUpPr as Node)['@_fitToPage']);
    expect(yes).toContain((ws.sheetProtection as Node)['@_sheet']);
    // Allowed on the protected sheet (the attribute is the protection of the action: 0/false = not protected).
    expect(['0', 'false']).toContain((ws.sheetProtection as Node)['@_autoFilter']);
    expect(['0', 'false']).toContain((ws.sheetProtection as Node)['@_sort']);
    const open: string[] = [];
    for (const row of (ws.sheetData as Node).row as Node[]) {
      for (const c of (row.c as Node[] | undefined) ?? []) {
        if (book.unlocked[Number(c['@_s'] ?? 0)]) open.push(c['@_r'] as string);
      }
    }
    const expected = answerCols.flatMap((c) => Array.from({ length: last - 1 }, (_, i) => `${c}${i + 2}`));
    expect(open.sort()).toEqual(expected.sort());
  }
  expect(text(book.core['dc:title'])).toBe(`${f.department}问题清单 ${f.version}`);
  expect(text(book.core['dc:subject'])).toBe(PURPOSE);
  expect(text(book.core['dc:description'])).toBe(stampLine(stamp));
  expect(text(book.core['cp:keywords'])).toBe(`疑点清单 ${f.department} ${f.version}`);
  return book;
}

describe('a list workbook', () => {
  it('has one validation per answer column, filter, print titles, protection and the stamp on every sheet', async () => {
    expect(files.map((f) => [f.department, f.perRule])).toEqual([
      ['医保局', { R02: 3 }],
      ['教育局', { R01: 12 }],
    ]);
    for (const f of files) {
      const book = await expectListStructure(f.paths[0]!, f, await stampOf(f));
      for (const sheet of book.sheets.slice(1)) {
        expect((sheet.ws.sheetViews as Node).sheetView).toMatchObject({
          pane: { '@_ySplit': '1', '@_topLeftCell': 'A2', '@_state': 'frozen' },
        });
      }
    }
  });

  it('states purpose, recipient, version, export time and exporter on the cover sheet', async () => {
    for (const f of files) {
      const stamp = await stampOf(f);
      const cover = (await readXlsxRaw(f.paths[0]!))[0]!;
      const pairs = [...cover.rows.values()].map((r) => r.map((c) => c.value));
      expect(pairs.slice(0, 5)).toEqual([
        ['部门', f.department],
        ['清单版本', f.version],
        ['导出时间', stamp.exportedAt],
        ['导出人', EXPORTER],
        ['数据截至', AS_OF],
      ]);
      expect(pairs).toContainEqual(['用途', PURPOSE]);
    }
  });

  it('sizes columns to their text, CJK characters counted double, within a minimum for answers and a cap', async () => {
    const edu = files.find((f) => f.department === '教育局')!;
    const { ws } = (await openBook(edu.paths[0]!)).sheets[1]!;
    const widths = Object.fromEntries(
      ((ws.cols as Node).col as Node[]).map((c) => [
        listHeaders(RULES.R01)[Number(c['@_min']) - 1]!,
        Number(c['@_width']),
      ]),
    );
    expect(widths).toMatchObject({
      清单编号: 12, // the header (8) with room for its filter button (2) and a margin (2)
      姓名: 10, // 欧阳娜娜 (8) and a margin; 张𠀀 is 4 (𠀀 is wide), =1+2 written as '=1+2 is 5
      身份证号: 20,
      问题: 40, // the long problem (80) capped
      核实结果: 14,
      说明: 30,
      整改日期: 12,
    });
  });
});

describe('a list as CSV', () => {
  it('has the header first and the stamp as a last 说明： line that the answer reader skips', async () => {
    const [edu] = await exportLists({
      wh,
      outDir: join(dir, 'csv'),
      asOf: AS_OF,
      log,
      department: '教育局',
      format: 'csv',
      actor: EXPORTER,
      timeZone: 'Asia/Shanghai',
    });
    const path = edu!.paths[0]!;
    const lines = readFileSync(path, 'utf8').slice(1).split('\r\n');
    expect(lines[0]).toBe(listHeaders(RULES.R01).join(','));
    expect(lines.at(-1)).toBe('');
    const footer = lines.at(-2)!;
    const exportedAt = /导出时间：(.+?)；/.exec(footer)![1]!;
    expect(exportedAt).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \(Asia\/Shanghai\)$/);
    const stamp = {
      department: '教育局',
      version: edu!.version,
      asOf: AS_OF,
      exportedAt,
      exporter: EXPORTER,
    };
    expect(footer).toBe(`说明：${stampLine(stamp)}；规则：R01 义务教育阶段失学辍学`);
    expect(lines).toHaveLength(1 + 12 + 1 + 1);

    // As sent: the two answered items, ten unanswered, the footer neither an item nor a problem.
    const sent = await readAnswerFile(path);
    expect(sent.unanswered).toBe(10);
    expect(sent.rows.map((r) => [r.values.answer, r.values.reason ?? null, r.problem ?? null])).toEqual([
      ['整改中', '已联系家长，正在劝返', null],
      ['已整改', null, null],
    ]);
    // Answered in a spreadsheet program and saved back as CSV, which pads the footer with empty cells.
    const returned = join(dir, 'csv', '教育局-returned.csv');
    const edited = lines.map((l, i) =>
      i === 4 ? l.replace(/,,,$/, ',核实不属实,已转学外省,') : i === lines.length - 2 ? `${l},,,,` : l,
    );
    writeFileSync(returned, `\uFEFF${edited.join('\r\n')}`);
    const back = await readAnswerFile(returned);
    expect(back.unanswered).toBe(9);
    expect(
      back.rows.map((r) => [r.row, r.values.answer, r.values.reason ?? null, r.problem ?? null]),
    ).toEqual([
      [3, '整改中', '已联系家长，正在劝返', null],
      [4, '已整改', null, null],
      [5, '核实不属实', '已转学外省', null],
    ]);
  });
});

// Not skipped without it: `npm test` installs it first (scripts/test-prerequisites.sh), or names the package.
describe('a list in LibreOffice', () => {
  const loCsv = join(dir, 'lo-csv');
  const loXlsx = join(dir, 'lo-xlsx');
  beforeAll(() => {
    if (!SOFFICE) throw new Error(SOFFICE_MISSING);
    mkdirSync(loCsv, { recursive: true });
    mkdirSync(loXlsx, { recursive: true });
    const lists = files.map((f) => f.paths[0]!);
    const profileDir = join(dir, 'lo-profile');
    convertWithSoffice(SOFFICE!, { files: lists, to: CSV_ALL_SHEETS, outDir: loCsv, profileDir });
    convertWithSoffice(SOFFICE!, { files: lists, to: 'xlsx', outDir: loXlsx, profileDir });
  }, 300_000);

  it('shows every cell as we wrote it: its CSV of every sheet equals the workbook, Chinese text byte for byte', async () => {
    for (const f of files) {
      for (const sheet of await readXlsxRaw(f.paths[0]!)) {
        const width = sheet.name === '说明' ? 2 : listHeaders(ruleOf(sheet.name)).length;
        const rows = Math.max(...sheet.rows.keys());
        const grid = Array.from({ length: rows }, () => Array<string>(width).fill(''));
        for (const [r, cells] of sheet.rows) {
          for (const c of cells) grid[r - 1]![c.ref.charCodeAt(0) - 65] = c.value ?? '';
        }
        const csv = readFileSync(join(loCsv, `${basename(f.paths[0]!, '.xlsx')}-${sheet.name}.csv`));
        const lo = parse(csv, { relax_column_count: true }) as string[][];
        expect(lo).toEqual(grid);
      }
    }
    const edu = files.find((f) => f.department === '教育局')!;
    const csv = readFileSync(join(loCsv, `${basename(edu.paths[0]!, '.xlsx')}-R01 义务教育阶段失学辍学.csv`));
    // The name outside the BMP, as UTF-8 bytes, and the neutralized formula as text.
    expect(csv.includes(Buffer.from(',张𠀀,', 'utf8'))).toBe(true);
    expect(csv.includes(Buffer.from(",'=1+2,", 'utf8'))).toBe(true);
  });

  it('keeps validations, filter, print titles, protection and the stamp in a copy it saves', async () => {
    for (const f of files) {
      const path = join(loXlsx, basename(f.paths[0]!));
      // The frozen pane is not checked here: a view setting, which headless conversion (no view) drops.
      await expectListStructure(path, f, await stampOf(f));
    }
  });

  it('saves a copy the answer reader reads, an answer written into it included', async () => {
    const edu = files.find((f) => f.department === '教育局')!;
    const path = join(loXlsx, basename(edu.paths[0]!));
    const book = await openBook(path);
    const part = book.sheets[1]!.part;
    let sheetXml = await book.zip.file(part)!.async('string');
    // Row 4 (the third item), answered as a department would: 核实不属实 with a reason, in LibreOffice's cells.
    const answer = (ref: string, value: string) => {
      const cell = new RegExp(`<c r="${ref}"([^>]*?)/>`);
      expect(sheetXml).toMatch(cell);
      sheetXml = sheetXml.replace(cell, `<c r="${ref}"$1 t="inlineStr"><is><t>${value}</t></is></c>`);
    };
    answer('N5', '核实不属实');
    answer('O5', '已转学外省');
    book.zip.file(part, sheetXml);
    const returned = join(dir, '教育局-returned-libreoffice.xlsx');
    writeFileSync(returned, await book.zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
    const back = await readAnswerFile(returned);
    expect(back.coverDepartment).toBe('教育局');
    expect(back.unanswered).toBe(9);
    const ids = (await readXlsxRaw(edu.paths[0]!))[1]!;
    const itemAt = (row: number) => ids.rows.get(row)![0]!.value;
    expect(back.rows.map((r) => [r.row, r.values.item_id, r.values.answer, r.values.reason ?? null])).toEqual(
      [
        [3, itemAt(3), '整改中', '已联系家长，正在劝返'],
        [4, itemAt(4), '已整改', null],
        [5, itemAt(5), '核实不属实', '已转学外省'],
      ],
    );
  });
});
