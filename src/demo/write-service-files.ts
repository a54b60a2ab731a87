/**
 * Writes the eight service feeds of the demo county the way those departments send them:
 *   assistance   GB18030 CSV (民政 system export), a title line, dates in Chinese form
 *   housing      .xlsx: a merged title row above the header, dates as date cells, a totals row at the end
 *   (the semicolon-separated CSV variant is the disasters feed's)
 *   water        UTF-8 CSV
 *   employment   tab-separated UTF-8 (.tsv)
 *   disability   GB18030 CSV, 残疾人证号 = ID number + category digit + grade digit
 *   deaths       UTF-8 CSV
 *   disasters    UTF-8 CSV with BOM, semicolon-separated, 直接经济损失(元) with ¥ and thousands separators
 *   settlements  UTF-8 CSV, money in several forms
 */
import { join } from 'node:path';
import type ExcelJS from 'exceljs';
import type { FeedId } from '../../schemas/vocab.ts';
import { COUNTY } from './county.ts';
import type { Rng } from './random.ts';
import type { Services } from './services.ts';
import { CsvOut, dateForms, moneyForms } from './write-files.ts';

const ymd = (iso: string) => iso.replace(/-/g, '');
const GRADE = ['一级', '二级', '三级', '四级'] as const;
const CATEGORY_DIGIT: Record<string, number> = {
  视力残疾: 1,
  听力残疾: 2,
  肢体残疾: 4,
  智力残疾: 5,
  多重残疾: 7,
};

export async function writeServiceFiles(
  s: Services,
  dir: string,
  rng: Rng,
): Promise<Partial<Record<FeedId, string>>> {
  const assistance = new CsvOut(join(dir, 'assistance-低保特困.csv'), 'gb18030', '\r\n');
  assistance.row([`${COUNTY.name}城乡低保及特困供养对象名册`]);
  assistance.row([
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

  const water = new CsvOut(join(dir, 'water-饮水安全.csv'), 'utf8');
  water.row(['户主姓名', '户主身份证号', '村', '饮水是否安全', '问题类型']);
  for (const w of s.water)
    water.row([w.head.name, w.head.id, w.village, w.safe ? '是' : '否', w.problem ?? '']);

  const employment = new CsvOut(join(dir, 'employment-就业培训.tsv'), 'utf8', '\n', '\t');
  employment.row([
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

  const disability = new CsvOut(join(dir, 'disability-持证残疾人.csv'), 'gb18030', '\r\n');
  disability.row(['姓名', '残疾人证号', '残疾类别', '残疾等级', '发证日期', '证件状态']);
  for (const d of s.disability) {
    disability.row([
      d.name,
      `${d.id}${CATEGORY_DIGIT[d.category] ?? 7}${d.grade}`,
      d.category,
      GRADE[d.grade - 1]!,
      dateForms(rng, ymd(d.issued)),
      d.valid ? '有效' : '注销',
    ]);
  }

  const deaths = new CsvOut(join(dir, 'deaths-死亡注销.csv'), 'utf8');
  deaths.row(['姓名', '公民身份号码', '死亡日期', '注销日期']);
  for (const d of s.deaths) deaths.row([d.name, d.id, d.died, d.deregistered]);

  const disasters = new CsvOut(join(dir, 'disasters-受灾农户.csv'), 'utf8-bom', '\r\n', ';');
  disasters.row(['户主姓名', '户主身份证号', '灾种', '受灾日期', '直接经济损失(元)']);
  for (const d of s.disasters) {
    disasters.row([d.head.name, d.head.id, d.type, dateForms(rng, ymd(d.hit)), moneyForms(rng, d.loss)]);
  }

  const settlements = new CsvOut(join(dir, 'settlements-医疗结算.csv'), 'utf8');
  settlements.row(['结算流水号', '姓名', '公民身份号码', '就诊类型', '结算日期', '医疗总费用', '个人自付']);
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
    assistance: await assistance.close(),
    housing: housingFile,
    water: await water.close(),
    employment: await employment.close(),
    disability: await disability.close(),
    deaths: await deaths.close(),
    disasters: await disasters.close(),
    settlements: await settlements.close(),
  };
}
