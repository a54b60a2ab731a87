/**
 * Writes the eight service feeds of the demo county the way those departments send them:
 *   assistance   GB18030 CSV (民政 system export), a title line, dates in Chinese form
 *   housing      .xlsx written by exceljs: a merged title row above the header, dates as date cells, a totals
 *                row at the end
 *   water        .xlsx written by SheetJS (as WPS and web systems write them, not exceljs's package layout): a
 *                填表说明 sheet before the data sheet, a merged title row, a 序号 column, a totals row and
 *                footer lines under the table, and two hidden sheets (last period's table, with the header,
 *                and the drop-down lists) that must not be read
 *   employment   tab-separated UTF-8 (.tsv)
 *   disability   binary .xls (BIFF8, the 残联 system's old export, written by SheetJS): a merged title row, a
 *                序号 column, 发证日期 as date cells, a totals row and footer lines; a table longer than a
 *                BIFF8 sheet continues on further sheets
 *   deaths       UTF-8 CSV
 *   disasters    UTF-8 CSV with BOM, semicolon-separated, 直接经济损失(元) with ¥ and thousands separators
 *   settlements  UTF-8 CSV, money in several forms
 */
import { join } from 'node:path';
import type ExcelJS from 'exceljs';
import { COUNTY } from './county.ts';
import { CsvOut, closeAll } from './csv-out.ts';
import type { FileShape, WrittenFiles } from './file-shape.ts';
import type { Rng } from './random.ts';
import { ymdOf as ymd } from './services/dates.ts';
import type { Services } from './services/index.ts';
import { BIFF8_MAX_ROWS, type BookCell, type BookSheet, writeSheetJsBook } from './sheetjs-book.ts';
import { dateForms, footerLines, moneyForms } from './spellings.ts';

const GRADE = ['一级', '二级', '三级', '四级'] as const;
const CATEGORY_DIGIT: Record<string, number> = {
  视力残疾: 1,
  听力残疾: 2,
  肢体残疾: 4,
  智力残疾: 5,
  多重残疾: 7,
};

/** 2026-11-20 → 2026年11月20日, as a 填报日期 is written. */
const chineseDate = (iso: string) =>
  `${iso.slice(0, 4)}年${Number(iso.slice(5, 7))}月${Number(iso.slice(8, 10))}日`;

export async function writeServiceFiles(
  s: Services,
  dir: string,
  rng: Rng,
  asOf: string,
): Promise<WrittenFiles> {
  const assistance = new CsvOut(join(dir, 'assistance-低保特困.csv'), 'gb18030', '\r\n');
  assistance.line([`${COUNTY.name}城乡低保及特困供养对象名册`]);
  assistance.line([
    '姓名',
    '身份证号',
    '户主身份证号',
    '救助类型',
    '开始日期',
    '终止日期',
    '月保障金额',
    '状态',
  ]);
  for (const a of s.assistance) {
    assistance.row([
      a.name,
      a.id,
      a.headId ?? '',
      a.aid,
      dateForms(rng, ymd(a.started)),
      a.ended ? dateForms(rng, ymd(a.ended)) : '',
      a.amount,
      a.active ? '正常' : '终止',
    ]);
  }

  const housingFile = join(dir, 'housing-农村住房安全.xlsx');
  const { default: Excel } = await import('exceljs'); // loaded on first use (~0.9 s)
  const book: ExcelJS.stream.xlsx.WorkbookWriter = new Excel.stream.xlsx.WorkbookWriter({
    filename: housingFile,
    useStyles: true,
  });
  const sheet = book.addWorksheet('危房台账');
  const title = sheet.addRow([`${COUNTY.name}农村低收入群体住房安全动态监测台账`]);
  sheet.mergeCells('A1:F1'); // before the commit: a streamed row is gone once committed
  title.commit();
  sheet.addRow(['户主姓名', '户主身份证号', '房屋安全等级', '改造状态', '鉴定日期', '竣工日期']).commit();
  const asDate = (iso: string) => new Date(`${iso}T00:00:00Z`);
  for (const h of s.housing) {
    const row = sheet.addRow([
      h.head.name,
      h.head.id, // as text: the way a careful clerk keeps IDs in Excel
      `${h.grade}级`,
      h.status ?? '',
      asDate(h.assessed),
      h.status === '已竣工' ? asDate(h.assessed) : null,
    ]);
    row.getCell(5).numFmt = 'yyyy-mm-dd';
    row.getCell(6).numFmt = 'yyyy-mm-dd';
    row.commit();
  }
  sheet.addRow(['合计', `${s.housing.length}户`]).commit();
  sheet.commit();
  await book.commit();
  const housingShape: FileShape = { records: s.housing.length, skipped: { totals: 1, blank: 0, footer: 0 } };

  const water = await writeWaterBook(s, join(dir, 'water-饮水安全.xlsx'));

  const employment = new CsvOut(join(dir, 'employment-就业培训.tsv'), 'utf8', '\n', '\t');
  employment.line([
    '姓名',
    '身份证号',
    '就业状态',
    '就业形式',
    '就业地',
    '月收入',
    '登记日期',
    '培训项目',
    '培训结束日期',
  ]);
  for (const e of s.employment) {
    employment.row([
      e.name,
      e.id,
      e.employed ? '已就业' : '未就业',
      e.form ?? '',
      e.form ? rng.pick(['本县', '贵阳市', '广东省东莞市', '浙江省宁波市']) : '',
      e.monthlyIncome ?? '',
      e.registered,
      e.trainingEnded ? rng.pick(['电工', '家政服务', '中式烹调', '电子商务']) : '',
      e.trainingEnded ?? '',
    ]);
  }

  const disability = await writeDisabilityXls(s, join(dir, 'disability-持证残疾人.xls'), asOf);

  const deaths = new CsvOut(join(dir, 'deaths-死亡注销.csv'), 'utf8');
  deaths.line(['姓名', '公民身份号码', '死亡日期', '注销日期']);
  for (const d of s.deaths) deaths.row([d.name, d.id, d.died, d.deregistered]);

  const disasters = new CsvOut(join(dir, 'disasters-受灾农户.csv'), 'utf8-bom', '\r\n', ';');
  disasters.line(['户主姓名', '户主身份证号', '灾种', '受灾日期', '直接经济损失(元)']);
  for (const d of s.disasters) {
    disasters.row([d.head.name, d.head.id, d.type, dateForms(rng, ymd(d.hit)), moneyForms(rng, d.loss)]);
  }

  const settlements = new CsvOut(join(dir, 'settlements-医疗结算.csv'), 'utf8');
  settlements.line(['结算流水号', '姓名', '公民身份号码', '就诊类型', '结算日期', '医疗总费用', '个人自付']);
  for (const x of s.settlements) {
    settlements.row([
      x.sid,
      x.name,
      x.id,
      rng.pick(['住院', '门诊慢特病', '普通门诊']),
      x.settled,
      moneyForms(rng, x.total),
      moneyForms(rng, x.outOfPocket),
    ]);
  }

  return {
    housing: { path: housingFile, ...housingShape },
    water,
    disability,
    ...(await closeAll([
      ['assistance', assistance],
      ['employment', employment],
      ['deaths', deaths],
      ['disasters', disasters],
      ['settlements', settlements],
    ])),
  };
}

/** The water bureau's workbook (see the file comment): one SheetJS .xlsx. */
async function writeWaterBook(s: Services, path: string): Promise<{ path: string } & FileShape> {
  const header = ['序号', '户主姓名', '户主身份证号', '村', '饮水是否安全', '问题类型'];
  const rows: BookCell[][] = [[`${COUNTY.name}农村饮水安全排查台账`], header];
  s.water.forEach((w, i) => {
    rows.push([i + 1, w.head.name, w.head.id, w.village, w.safe ? '是' : '否', w.problem ?? '']);
  });
  rows.push(['合计', `${s.water.length}户`]);
  const footers = footerLines('1.本表由各村水管员逐户排查填报；2.饮水不安全的须填写问题类型。');
  rows.push(...footers);
  // Last period's table, hidden rather than deleted: the same header, its first households as unsafe. Read, it
  // would add conflicting rows and R09 findings that are not there.
  const lastPeriod: BookCell[][] = [
    header,
    ...s.water.slice(0, 20).map((w, i) => [i + 1, w.head.name, w.head.id, w.village, '否', '水量不足']),
  ];
  const sheets: BookSheet[] = [
    {
      name: '填表说明',
      rows: [
        ['填表说明'],
        ['1.本表由各村水管员逐户排查填报，乡镇水务站汇总后报县水利局。'],
        ['2.“饮水是否安全”填“是”或“否”；填“否”的须从下拉列表选择问题类型。'],
        ['3.户主身份证号须填写18位，以文本格式录入。'],
      ],
    },
    // The title and the last footer line (填表说明) across the table, as such lines are.
    { name: '排查台账', rows, mergedRows: [0, rows.length - 1], width: header.length },
    { name: '上期台账', rows: lastPeriod, hidden: true },
    {
      name: '下拉选项',
      rows: [
        ['是否', '问题类型'],
        ['是', '水量不足'],
        ['否', '水质不达标'],
        [null, '取水不便'],
      ],
      hidden: true,
    },
  ];
  return {
    path: await writeSheetJsBook(path, 'xlsx', sheets),
    records: s.water.length,
    skipped: { totals: 1, blank: 0, footer: footers.length },
  };
}

/** The 残联 system's .xls export (see the file comment): BIFF8 written by SheetJS. */
async function writeDisabilityXls(
  s: Services,
  path: string,
  asOf: string,
): Promise<{ path: string } & FileShape> {
  const header = ['序号', '姓名', '残疾人证号', '残疾类别', '残疾等级', '发证日期', '证件状态'];
  const title = `${COUNTY.name}持证残疾人基本信息`;
  const records: BookCell[][] = s.disability.map((d, i) => [
    i + 1,
    d.name,
    `${d.id}${CATEGORY_DIGIT[d.category] ?? 7}${d.grade}`, // as text: 20 digits do not survive as a number
    d.category,
    GRADE[d.grade - 1]!,
    { date: d.issued },
    d.valid ? '有效' : '注销',
  ]);
  // Each label with its value in a cell of its own, spread over the row, as the export template lays them out.
  const below: BookCell[][] = [
    ['合计', `${records.length}人`],
    ['制表人：王芳', null, '审核人：刘强'],
    ['联系电话：0851-86825678'],
    [`填报日期：${chineseDate(asOf)}`],
  ];
  // Title and header on every sheet; the totals and footer lines once, under the last.
  const perSheet = BIFF8_MAX_ROWS - 2 - below.length;
  const chunks: BookCell[][][] = [];
  for (let i = 0; i < records.length; i += perSheet) chunks.push(records.slice(i, i + perSheet));
  if (!chunks.length) chunks.push([]);
  const sheets = chunks.map(
    (chunk, k): BookSheet => ({
      name: k === 0 ? '残疾人名册' : `残疾人名册(${k + 1})`,
      rows: [[title], header, ...chunk, ...(k === chunks.length - 1 ? below : [])],
      mergedRows: [0],
      width: header.length,
    }),
  );
  return {
    path: await writeSheetJsBook(path, 'biff8', sheets),
    records: records.length,
    skipped: { totals: 1, blank: 0, footer: below.length - 1 },
  };
}
