/**
 * Writes the demo county's department files the way departments make them:
 *   roster         GB18030 CSV from Excel on Windows (CRLF), dirty IDs, dates and money in several forms
 *   student_roll   UTF-8 CSV with BOM, a title line above the header; below the data a totals line, a blank
 *                  line and footer lines (制表人/审核人, 联系电话, 填表说明), every line as wide as the header,
 *                  as Excel saves a sheet to CSV
 *   home_schooling UTF-8 CSV
 *   insurance      UTF-8 CSV, this year's and last year's enrollments, header spellings of another system
 * (the service feeds: write-service-files.ts). Rows are written as they are produced (streams), so large demo
 * counties do not sit in memory. Each file's shape (records, rows a reader must skip) is returned with it.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import type { FeedId } from '../../schemas/vocab.ts';
import { csvLine } from '../delivery/csv.ts';
import { COUNTY, type County, type Person } from './county.ts';
import { dirtyId, sciNotation } from './people.ts';
import { Rng } from './random.ts';
import type { Labor, Services } from './services.ts';
import { writeServiceFiles } from './write-service-files.ts';

type Cell = string | number | null;

/** Lines below a table that are no records, by the reason a reader skips them (connectors/row-shape.ts). */
export interface Skipped {
  totals: number;
  blank: number;
  footer: number;
}

/**
 * What a written file holds: its records (rows a reader reads, quarantined or loaded), and the lines below the
 * table a reader must skip and count. Title lines above the header are neither.
 */
export interface FileShape {
  records: number;
  skipped: Skipped;
}

/**
 * The footer lines a county clerk writes under a table: who made and checked it, a phone number, notes. The
 * first two are in footerKind's vocabulary in the forms departments use (both labels in one cell, two spaces
 * apart; a label and its value in one cell); `note` is the feed's own 填表说明.
 */
export function footerLines(note: string): string[][] {
  return [['制表人：张三  审核人：李四'], ['联系电话：0851-86821234'], [`填表说明：${note}`]];
}

export class CsvOut {
  private readonly out: WriteStream;
  private records = 0;
  private readonly skipped: Skipped = { totals: 0, blank: 0, footer: 0 };
  constructor(
    readonly path: string,
    private readonly encoding: 'gb18030' | 'utf8' | 'utf8-bom',
    private readonly eol: '\r\n' | '\n' = '\r\n',
    private readonly delimiter = ',',
  ) {
    this.out = createWriteStream(path);
    if (encoding === 'utf8-bom') this.out.write(Buffer.from([0xef, 0xbb, 0xbf]));
  }
  /** A record. */
  row(cells: readonly Cell[]): void {
    this.records++;
    this.write(cells);
  }
  /** A line that is no record: a title line, the header. */
  line(cells: readonly Cell[]): void {
    this.write(cells);
  }
  /** A line below the table a reader skips: a totals line, a blank line, a footer line. */
  skip(kind: keyof Skipped, cells: readonly Cell[]): void {
    this.skipped[kind]++;
    this.write(cells);
  }
  get shape(): FileShape {
    return { records: this.records, skipped: { ...this.skipped } };
  }
  private write(cells: readonly Cell[]): void {
    const line = csvLine(cells, this.delimiter).replace(/\r\n$/, this.eol);
    this.out.write(this.encoding === 'gb18030' ? iconv.encode(line, 'gb18030') : line);
  }
  close(): Promise<string> {
    return new Promise((resolve, reject) =>
      this.out.end((err?: Error | null) => (err ? reject(err) : resolve(this.path))),
    );
  }
}

const dash = (d: string) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;

/** The same date in the forms of DOMAIN §5.3. */
export function dateForms(rng: Rng, ymd: string): string {
  const [y, m, d] = [ymd.slice(0, 4), Number(ymd.slice(4, 6)), Number(ymd.slice(6, 8))];
  const serial = Math.round((Date.UTC(Number(y), m - 1, d) - Date.UTC(1899, 11, 30)) / 86_400_000);
  return rng.pick([
    dash(ymd),
    `${y}/${m}/${d}`,
    ymd,
    `${y}.${ymd.slice(4, 6)}.${ymd.slice(6)}`,
    `${y}年${m}月${d}日`,
    String(serial),
  ]);
}

export function moneyForms(rng: Rng, yuan: number): string {
  return rng.pick([
    yuan.toFixed(2),
    `¥${yuan.toLocaleString('en-US', { minimumFractionDigits: 2 })}`,
    `${yuan}元`,
  ]);
}

const LABOR_LABEL: Record<Labor, readonly string[]> = {
  able: ['普通劳动力', '普通劳动力', '技能劳动力'],
  weak: ['弱劳动力', '半劳动力'],
  lost: ['丧失劳动力'],
  none: ['无劳动力'],
};

/** Every feed's file and its shape. */
export type WrittenFiles = Partial<Record<FeedId, { path: string } & FileShape>>;

export async function writeDemoFiles(
  county: County,
  services: Services,
  dir: string,
  seed: number,
): Promise<WrittenFiles> {
  await mkdir(dir, { recursive: true });
  const rng = new Rng(seed ^ 0x5eed);
  const y = county.schoolYear;
  const year = Number(county.asOf.slice(0, 4));

  const roster = new CsvOut(join(dir, 'roster-防返贫监测对象.csv'), 'gb18030');
  roster.line([
    '县',
    '乡镇',
    '村',
    '行政区划代码',
    '户编号',
    '姓名',
    '证件号码',
    '性别',
    '与户主关系',
    '户类型',
    '监测对象类别',
    '风险类型',
    '是否风险消除',
    '识别时间',
    '风险消除时间',
    '劳动技能',
    '在校生状况',
    '家庭年人均纯收入',
    '联系电话',
  ]);
  const broken = new Map(county.brokenRosterRows.map((b) => [b.person.id, b.raw]));
  for (const h of county.households) {
    const income = services.income.get(h.id)!;
    const category =
      h.type === 'monitored' ? rng.pick(['脱贫不稳定户', '边缘易致贫户', '突发严重困难户']) : '';
    for (const p of h.members) {
      const id = broken.get(p.id) ?? county.dirtyRosterIds.get(p.id) ?? p.id;
      const name = rng.chance(0.03) ? `${p.name.slice(0, 1)} ${p.name.slice(1)}` : p.name;
      roster.row([
        COUNTY.name,
        h.township,
        h.village,
        h.villageCode,
        h.id,
        name,
        id,
        (p.sex === 'M') !== services.wrongSexOnRoster.has(p.id) ? '男' : '女',
        p.relation,
        h.type === 'monitored' ? '监测户' : '脱贫户',
        category,
        h.type === 'monitored' ? rng.pick(['因病', '因学', '因残', '缺劳力']) : '',
        h.type === 'monitored' ? rng.pick(['是', '否']) : '',
        dateForms(rng, `${rng.int(2016, year - 1)}0${rng.int(1, 9)}1${rng.int(0, 8)}`),
        '',
        rng.pick(LABOR_LABEL[services.labor.get(p.id)!]),
        '',
        moneyForms(rng, income),
        `13${rng.int(100000000, 999999999)}`,
      ]);
    }
  }

  const roll = new CsvOut(join(dir, 'student_roll-学籍.csv'), 'utf8-bom');
  const home = new CsvOut(join(dir, 'home_schooling-送教上门.csv'), 'utf8');
  roll.line([`${COUNTY.name}${y}年秋季学期中小学学籍名册`]);
  const rollHeader = [
    '学生姓名',
    '身份证件号',
    '学校标识码',
    '学校名称',
    '学段',
    '年级',
    '学籍状态',
    '更新日期',
  ];
  roll.line(rollHeader);
  home.line(['姓名', '身份证号', '残疾类别', '送教学校', '送教开始日期']);
  const school = (p: Person) => [
    `21${p.household.villageCode.slice(6, 9)}0001`,
    `${p.household.township}中心学校`,
  ];
  const rollRow = (p: Person, id: string, status: string, updated: string) => {
    const [code, name] = school(p);
    const age = y - Number(p.birth.slice(0, 4));
    roll.row([
      services.rollNames.get(p.id) ?? p.name,
      id,
      code!,
      name!,
      age >= 13 ? '初中' : '小学',
      `${Math.max(1, age - 6)}年级`,
      status,
      updated,
    ]);
  };
  const updated = `${y}-09-0${rng.int(1, 9)}`;
  for (const p of county.persons) {
    switch (county.roll.get(p.id)) {
      case 'enrolled':
        rollRow(p, p.id, '在读', updated);
        break;
      case 'enrolled_dirty_id':
        rollRow(p, dirtyId(p.id, rng), '在读', updated);
        break;
      case 'dropped_out':
        rollRow(p, p.id, '辍学', `${y}-10-15`);
        break;
      case 'suspended':
        rollRow(p, p.id, '休学', `${y}-10-08`);
        break;
      case 'transferred':
        rollRow(p, p.id, '转出', `${y}-09-20`);
        break;
      case 'transferred_then_enrolled':
        rollRow(p, p.id, '转出', `${y}-09-03`);
        rollRow(p, p.id, '在读', `${y}-09-10`);
        break;
      case 'sci_notation_only':
        rollRow(p, sciNotation(p.id), '在读', updated);
        break;
      case 'home_schooled':
        home.row([
          p.name,
          p.id,
          rng.pick(['肢体残疾', '智力残疾', '多重残疾']),
          `${p.household.township}中心学校`,
          `${y}-09-01`,
        ]);
        break;
      case 'home_schooled_dirty_id':
        home.row([p.name, dirtyId(p.id, rng), '智力残疾', `${p.household.township}中心学校`, `${y}/9/1`]);
        break;
      default:
        break;
    }
  }
  for (const p of county.nonFocusPupils) if (rng.chance(0.5)) rollRow(p, p.id, '在读', updated);
  // Excel writes every line of a saved sheet as wide as its used range: the lines below pad with empty cells.
  const wide = (cells: readonly string[]) => [
    ...cells,
    ...Array<string>(rollHeader.length - cells.length).fill(''),
  ];
  roll.skip('totals', wide(['合计', `${roll.shape.records}人`]));
  roll.skip('blank', wide([]));
  for (const f of footerLines('1.本表由各校学籍管理员填报；2.身份证件号须填写18位，以文本格式录入。'))
    roll.skip('footer', wide(f));

  const ins = new CsvOut(join(dir, 'insurance-参保登记.csv'), 'utf8');
  ins.line(['姓名', '身份证号', '险种', '参保年度', '参保状态', '资助类别', '参保地']);
  const place = `${COUNTY.name}医保局`;
  for (const r of services.insurance) {
    const name = services.insuranceNames.get(r.id) ?? r.name;
    ins.row([name, r.dirtyId ? dirtyId(r.id, rng) : r.id, r.scheme, r.year, r.status, r.subsidy, place]);
  }

  const files: WrittenFiles = {};
  for (const [feed, out] of [
    ['roster', roster],
    ['student_roll', roll],
    ['home_schooling', home],
    ['insurance', ins],
  ] as const)
    files[feed] = { path: await out.close(), ...out.shape };
  return { ...files, ...(await writeServiceFiles(services, dir, rng, county.asOf)) };
}
