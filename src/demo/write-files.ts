/**
 * Writes the demo county's department files the way departments make them:
 *   roster         GB18030 CSV from Excel on Windows (CRLF), dirty IDs, dates and money in several forms
 *   student_roll   UTF-8 CSV with BOM, a title line above the header; below the data a totals line, a blank
 *                  line and footer lines (制表人/审核人, 联系电话, 填表说明), every line as wide as the header,
 *                  as Excel saves a sheet to CSV
 *   home_schooling UTF-8 CSV
 *   insurance      UTF-8 CSV, this year's and last year's enrollments, header spellings of another system
 * and then the service feeds (write-service-files.ts), all from one seeded Rng in that order. Each file's shape
 * (records, rows a reader must skip) is returned with it.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { COUNTY, type County, type Person, type RollCase } from './county.ts';
import { CsvOut, closeAll } from './csv-out.ts';
import type { WrittenFiles } from './file-shape.ts';
import { dirtyId, sciNotation } from './people.ts';
import { Rng } from './random.ts';
import { ROSTER_HEADER } from './roster-header.ts';
import type { Services } from './services/index.ts';
import type { Labor } from './services/roster.ts';
import { dateForms, footerLines, moneyForms } from './spellings.ts';
import { writeServiceFiles } from './write-service-files.ts';

const LABOR_LABEL: Record<Labor, readonly string[]> = {
  able: ['普通劳动力', '普通劳动力', '技能劳动力'],
  weak: ['弱劳动力', '半劳动力'],
  lost: ['丧失劳动力'],
  none: ['无劳动力'],
};

export async function writeDemoFiles(
  county: County,
  services: Services,
  dir: string,
  seed: number,
): Promise<WrittenFiles> {
  await mkdir(dir, { recursive: true });
  const rng = new Rng(seed ^ 0x5eed);
  const roster = writeRosterFile(county, services, dir, rng);
  const [roll, home] = writeRollFiles(county, services, dir, rng);
  const insurance = writeInsuranceFile(services, dir, rng);
  return {
    ...(await closeAll([
      ['roster', roster],
      ['student_roll', roll],
      ['home_schooling', home],
      ['insurance', insurance],
    ])),
    ...(await writeServiceFiles(services, dir, rng, county.asOf)),
  };
}

function writeRosterFile(county: County, services: Services, dir: string, rng: Rng): CsvOut {
  const year = Number(county.asOf.slice(0, 4));
  const roster = new CsvOut(join(dir, 'roster-防返贫监测对象.csv'), 'gb18030');
  roster.line(ROSTER_HEADER);
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
  return roster;
}

/** A roll row as a case writes it: the ID as written, 学籍状态, 更新日期. */
type RollRow = [id: string, status: string, updated: string];

/** The student roll and the home-schooling list: what the education bureau knows of each child by its case. */
function writeRollFiles(county: County, services: Services, dir: string, rng: Rng): [CsvOut, CsvOut] {
  const y = county.schoolYear;
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
  const school = (p: Person) => `${p.household.township}中心学校`;
  const rollRow = (p: Person, [id, status, updated]: RollRow) => {
    const age = y - Number(p.birth.slice(0, 4));
    roll.row([
      services.rollNames.get(p.id) ?? p.name,
      id,
      `21${p.household.villageCode.slice(6, 9)}0001`,
      school(p),
      age >= 13 ? '初中' : '小学',
      `${Math.max(1, age - 6)}年级`,
      status,
      updated,
    ]);
  };
  const updated = `${y}-09-0${rng.int(1, 9)}`;
  const rollRows: Partial<Record<RollCase, (p: Person) => RollRow[]>> = {
    enrolled: (p) => [[p.id, '在读', updated]],
    enrolled_dirty_id: (p) => [[dirtyId(p.id, rng), '在读', updated]],
    dropped_out: (p) => [[p.id, '辍学', `${y}-10-15`]],
    suspended: (p) => [[p.id, '休学', `${y}-10-08`]],
    transferred: (p) => [[p.id, '转出', `${y}-09-20`]],
    transferred_then_enrolled: (p) => [
      [p.id, '转出', `${y}-09-03`],
      [p.id, '在读', `${y}-09-10`],
    ],
    sci_notation_only: (p) => [[sciNotation(p.id), '在读', updated]],
  };
  const homeRow: Partial<Record<RollCase, (p: Person) => string[]>> = {
    home_schooled: (p) => [
      p.name,
      p.id,
      rng.pick(['肢体残疾', '智力残疾', '多重残疾']),
      school(p),
      `${y}-09-01`,
    ],
    home_schooled_dirty_id: (p) => [p.name, dirtyId(p.id, rng), '智力残疾', school(p), `${y}/9/1`],
  };
  for (const p of county.persons) {
    const c = county.roll.get(p.id);
    if (c === undefined) continue;
    for (const r of rollRows[c]?.(p) ?? []) rollRow(p, r);
    const h = homeRow[c]?.(p);
    if (h) home.row(h);
  }
  for (const p of county.nonFocusPupils) if (rng.chance(0.5)) rollRow(p, [p.id, '在读', updated]);
  // Excel writes every line of a saved sheet as wide as its used range: the lines below pad with empty cells.
  const wide = (cells: readonly string[]) => [
    ...cells,
    ...Array<string>(rollHeader.length - cells.length).fill(''),
  ];
  roll.skip('totals', wide(['合计', `${roll.shape.records}人`]));
  roll.skip('blank', wide([]));
  for (const f of footerLines('1.本表由各校学籍管理员填报；2.身份证件号须填写18位，以文本格式录入。'))
    roll.skip('footer', wide(f));
  return [roll, home];
}

function writeInsuranceFile(services: Services, dir: string, rng: Rng): CsvOut {
  const ins = new CsvOut(join(dir, 'insurance-参保登记.csv'), 'utf8');
  ins.line(['姓名', '身份证号', '险种', '参保年度', '参保状态', '资助类别', '参保地']);
  const place = `${COUNTY.name}医保局`;
  for (const r of services.insurance) {
    const name = services.insuranceNames.get(r.id) ?? r.name;
    ins.row([name, r.dirtyId ? dirtyId(r.id, rng) : r.id, r.scheme, r.year, r.status, r.subsidy, place]);
  }
  return ins;
}
