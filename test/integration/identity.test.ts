import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { homeSchooling } from '../../pipelines/feeds/home-schooling.ts';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import { roster } from '../../pipelines/feeds/roster.ts';
import { studentRoll } from '../../pipelines/feeds/student-roll.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { dismissReview, linkReview, listReview } from '../../src/identity/review.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { auditTrail, testWarehouse } from '../support/warehouse.ts';

let wh: Warehouse;
const dir = tempDir('ruralhub-identity-');
const log = silentLogger();
const base = { log, today: '2026-11-24', timeZone: 'Asia/Shanghai' };
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');

// Roster persons (all of compulsory-school age on 2026-11-24).
const ZHANG = testId(11, '52010220150301'); // 张三, 东村
const LI_1 = testId(12, '52010220140505'); // 李娜, 东村 (household H2)
const LI_2 = testId(14, '52010220140505'); // 李娜, 东村 (household H3): same name, birth date, village
const WANG = testId(16, '52010220140606'); // 王芳, 西村
const ZHUANG = testId(18, '52010220130707'); // 庄小明, 西村
const NEW = testId(20, '52010220160808'); // 赵新, joins in the second roster

const ROSTER_HEADER = ['乡镇', '村', '户编号', '姓名', '证件号码', '户类型'];
const rosterRows = [
  ['城关镇', '东村', 'H1', '张三', ZHANG, '监测户'],
  ['城关镇', '东村', 'H2', '李娜', LI_1, '监测户'],
  ['城关镇', '东村', 'H3', '李娜', LI_2, '脱贫户'],
  ['城关镇', '西村', 'H4', '王芳', WANG, '监测户'],
  ['城关镇', '西村', 'H5', '庄小明', ZHUANG, '脱贫户'],
];

const badCheck = (id: string) => id.slice(0, 17) + (id[17] === '1' ? '2' : '1');
const ROLL_HEADER = ['学生姓名', '身份证件号', '出生日期', '村', '学籍状态', '更新日期'];
const rollRows = [
  ['张三', ZHANG, '', '', '在读', '2026-09-01'],
  // Excel destroyed the ID; the traditional form of the name, a slash date: one roster person matches.
  ['莊小明', '5.20102E+17', '2013/7/7', '西村', '在读', '2026-09-01'],
  // Wrong check digit; two roster persons share name, birth date and village: never guessed.
  ['李娜', badCheck(LI_2), '2014-05-05', '东村', '在读', '2026-09-01'],
  // No ID and no birth date: nothing to link by.
  ['王芳', '', '', '西村', '在读', '2026-09-01'],
];

const findingsOf = async (rule: string) =>
  (
    await wh.db
      .selectFrom('findings')
      .select('subject_key')
      .where('rule_id', '=', rule)
      .where('state', '<>', 'closed')
      .orderBy('subject_key')
      .execute()
  ).map((r) => r.subject_key);

beforeAll(async () => {
  wh = await testWarehouse('identity');
});
afterAll(async () => wh?.close());

describe('person resolution', () => {
  it('links a record with a broken ID to the one matching person; sends the rest to review; never guesses', async () => {
    const r0 = await importFeed({
      ...base,
      wh,
      feed: roster,
      path: writeCsv(join(dir, 'roster.csv'), [ROSTER_HEADER, ...rosterRows]),
    });
    expect(r0.status).toBe('succeeded');
    await importFeed({
      ...base,
      wh,
      feed: homeSchooling,
      path: writeCsv(join(dir, 'home.csv'), [['姓名', '身份证号', '送教学校']]),
    });
    const roll = writeCsv(join(dir, 'roll.csv'), [ROLL_HEADER, ...rollRows]);
    const s = await importFeed({ ...base, wh, feed: studentRoll, path: roll });
    expect(s.status).toBe('succeeded');
    expect(s.counts).toMatchObject({ rows_read: 4, rows_loaded: 2, rows_quarantined: 2 });

    const loaded = await wh.db
      .selectFrom('student_roll')
      .select(['id_number', 'name', 'birth_date', 'home_village', 'id_link', 'row_number'])
      .where('valid_to', 'is', null)
      .orderBy('row_number')
      .execute();
    expect(loaded).toEqual([
      { id_number: ZHANG, name: '张三', birth_date: null, home_village: null, id_link: null, row_number: 2 },
      {
        id_number: ZHUANG,
        name: '莊小明',
        birth_date: '2013-07-07',
        home_village: '西村',
        id_link: 'unique_candidate',
        row_number: 3,
      },
    ]);

    const keys = Object.fromEntries(
      (await wh.db.selectFrom('persons').select(['id_number', 'person_key']).execute()).map((p) => [
        p.id_number,
        p.person_key,
      ]),
    );
    const open = await listReview(wh);
    expect(open.map((i) => [i.feed, i.row_number, i.problem, i.candidates, i.name])).toEqual([
      ['student_roll', 4, 'id_bad_checksum', 2, '李娜'],
      ['student_roll', 5, 'id_missing', 0, '王芳'],
    ]);
    // Candidates are named by person key, their IDs masked (first 4 + last 4).
    expect(open[0]!.candidate_persons).toBe(
      [LI_1, LI_2]
        .sort((a, b) => keys[a]! - keys[b]!)
        .map((id) => `${keys[id]}:${id.slice(0, 4)}${'*'.repeat(10)}${id.slice(-4)}`)
        .join(' '),
    );
    expect(JSON.stringify(open)).not.toContain(badCheck(LI_2));

    // The same rows still sit in quarantine, with their reasons.
    const q = await wh.db
      .selectFrom('quarantine')
      .select(['row_number', 'problem'])
      .where('run_id', '=', s.runId)
      .orderBy('row_number')
      .execute();
    expect(q).toEqual([
      { row_number: 4, problem: 'id_bad_checksum' },
      { row_number: 5, problem: 'id_missing' },
    ]);

    // R01: the linked child is on the roll; the two 李娜 and 王芳 are not (their roll records are unresolved).
    await runMatch({ wh, config, log, asOf: '2026-11-24', rules: ['R01'] });
    expect(await findingsOf('R01')).toEqual([LI_1, LI_2, WANG].sort());
  });

  it('applies an operator decision at the next load, even of the same file, and keeps review items unique', async () => {
    const items = await listReview(wh);
    const keys = Object.fromEntries(
      (await wh.db.selectFrom('persons').select(['id_number', 'person_key']).execute()).map((p) => [
        p.id_number,
        p.person_key,
      ]),
    );
    const li = items.find((i) => i.name === '李娜')!;
    const wang = items.find((i) => i.name === '王芳')!;
    expect(await linkReview(wh, { ids: [Number(li.id)], personKey: keys[LI_2]!, actor: 'tester' })).toEqual([
      Number(li.id),
    ]);
    expect(await dismissReview(wh, { ids: [Number(wang.id)], actor: 'tester', note: '非本县人员' })).toEqual([
      Number(wang.id),
    ]);

    const roll = join(dir, 'roll.csv');
    const s = await importFeed({ ...base, wh, feed: studentRoll, path: roll });
    expect(s.status).toBe('succeeded');
    expect(s.counts).toMatchObject({
      rows_read: 4,
      rows_loaded: 3,
      rows_new: 1,
      rows_unchanged: 2,
      rows_quarantined: 1,
    });
    // 张三's line is recognised as loaded; 莊小明's version was linked by name and birth date, so its line is
    // staged and linked again rather than taken as it was.
    expect(s.recognized).toBe(1);
    const li2 = await wh.db
      .selectFrom('student_roll')
      .select(['id_number', 'id_link'])
      .where('valid_to', 'is', null)
      .where('row_number', '=', 4)
      .executeTakeFirstOrThrow();
    expect(li2).toEqual({ id_number: LI_2, id_link: 'operator' });

    // Once applied, the same file is a no-op again; the review holds one item per record, decisions kept.
    expect((await importFeed({ ...base, wh, feed: studentRoll, path: roll })).status).toBe('noop');
    const all = await listReview(wh, { status: 'all' });
    expect(all.map((i) => [i.name, i.status, i.resolved_by])).toEqual([
      ['李娜', 'linked', 'tester'],
      ['王芳', 'dismissed', 'tester'],
    ]);
    const audit = await auditTrail(wh, { like: 'identity.%' }, ['action', 'actor', 'row_count']);
    expect(audit).toEqual([
      { action: 'identity.link', actor: 'tester', row_count: 1 },
      { action: 'identity.dismiss', actor: 'tester', row_count: 1 },
    ]);

    await runMatch({ wh, config, log, asOf: '2026-11-24', rules: ['R01'] });
    expect(await findingsOf('R01')).toEqual([LI_1, WANG].sort());
  });

  it('gives persons and households stable surrogate keys across loads', async () => {
    const before = await wh.db.selectFrom('persons').select(['id_number', 'person_key']).execute();
    const hhBefore = await wh.db.selectFrom('households').select(['household_id', 'household_key']).execute();
    expect(hhBefore.map((h) => h.household_id).sort()).toEqual(['H1', 'H2', 'H3', 'H4', 'H5']);

    // The next roster: rows in another order, one person gone, one new person in a new household.
    const next = [...rosterRows.slice(1).reverse(), ['城关镇', '东村', 'H6', '赵新', NEW, '监测户']];
    const r = await importFeed({
      ...base,
      wh,
      feed: roster,
      path: writeCsv(join(dir, 'roster-2.csv'), [ROSTER_HEADER, ...next]),
    });
    expect(r.status).toBe('succeeded');
    const after = await wh.db.selectFrom('persons').select(['id_number', 'person_key']).execute();
    const keyOf = new Map(after.map((p) => [p.id_number, p.person_key]));
    for (const p of before) expect(keyOf.get(p.id_number)).toBe(p.person_key);
    expect(keyOf.get(NEW)).toBeGreaterThan(Math.max(...before.map((p) => p.person_key)));
    expect(after).toHaveLength(before.length + 1);
    const hhAfter = await wh.db.selectFrom('households').select(['household_id', 'household_key']).execute();
    const hhKey = new Map(hhAfter.map((h) => [h.household_id, h.household_key]));
    for (const h of hhBefore) expect(hhKey.get(h.household_id)).toBe(h.household_key);
    expect(hhKey.has('H6')).toBe(true);
  });

  it('reports a birth date that contradicts the ID as an R13 identity conflict for the sending department', async () => {
    const home = writeCsv(join(dir, 'home-2.csv'), [
      ['姓名', '身份证号', '出生日期', '送教学校'],
      ['张三', ZHANG, '2015年3月2日', '城关小学'], // the ID says 2015-03-01
      ['王芳', WANG, '2014-06-06', '城关小学'], // agrees
    ]);
    expect((await importFeed({ ...base, wh, feed: homeSchooling, path: home })).status).toBe('succeeded');
    await runMatch({ wh, config, log, asOf: '2026-11-24', rules: ['R13'] });
    const r13 = await wh.db
      .selectFrom('findings')
      .select(['subject_key', 'department', 'details'])
      .where('rule_id', '=', 'R13')
      .where('subject_key', 'like', '%:birth:%')
      .execute();
    // The linked roll records are reported too: the school still holds a wrong ID, now told the right one.
    const linked = await wh.db
      .selectFrom('findings')
      .select(['subject_key', 'department', 'id_number'])
      .where('rule_id', '=', 'R13')
      .where('subject_key', 'like', '%:linked:%')
      .orderBy('subject_key')
      .execute();
    expect(linked).toEqual(
      [ZHUANG, LI_2]
        .map((id) => ({ subject_key: `${id}:linked:student_roll`, department: '教育局', id_number: id }))
        .sort((a, b) => a.subject_key.localeCompare(b.subject_key)),
    );
    expect(r13).toEqual([
      {
        subject_key: `${ZHANG}:birth:home_schooling`,
        department: '教育局',
        details: expect.objectContaining({
          conflict: '出生日期与身份证号不符',
          reference: '身份证号中的出生日期为2015-03-01',
          row: 2,
        }),
      },
    ]);
  });

  it('compares the names departments give an ID the roster does not have, and tells each of them', async () => {
    const OUT_1 = testId(31, '51010219700101'); // not on the roster: 毛勇阳 or 毛永阳?
    const OUT_2 = testId(33, '51010219720202'); // not on the roster: 鍾 and 钟 are one name
    const aid = writeCsv(join(dir, 'aid-offroster.csv'), [
      ['姓名', '身份证号', '救助类型', '状态'],
      ['毛勇阳', OUT_1, '城乡低保', '正常'],
      ['鍾华', OUT_2, '城乡低保', '正常'],
    ]);
    const jobs = writeCsv(join(dir, 'jobs-offroster.csv'), [
      ['姓名', '身份证号', '就业状态', '登记日期'],
      ['毛永阳', OUT_1, '已就业', '2026-03-01'],
      ['钟华', OUT_2, '已就业', '2026-03-01'],
    ]);
    expect((await importFeed({ ...base, wh, feed: FEEDS.assistance, path: aid })).status).toBe('succeeded');
    expect((await importFeed({ ...base, wh, feed: FEEDS.employment, path: jobs })).status).toBe('succeeded');
    await runMatch({ wh, config, log, asOf: '2026-11-24', rules: ['R13'] });
    const found = await wh.db
      .selectFrom('findings')
      .select(['subject_key', 'department', 'name', 'details'])
      .where('rule_id', '=', 'R13')
      .where('id_number', 'in', [OUT_1, OUT_2])
      .orderBy('subject_key')
      .execute();
    expect(found).toEqual([
      {
        subject_key: `${OUT_1}:name:assistance`,
        department: '民政局',
        name: '毛勇阳',
        details: expect.objectContaining({
          conflict: '同一身份证号姓名不一致',
          reference: '就业帮扶和技能培训台账姓名：毛永阳',
        }),
      },
      {
        subject_key: `${OUT_1}:name:employment`,
        department: '人社局',
        name: '毛永阳',
        details: expect.objectContaining({ reference: '社会救助对象名册姓名：毛勇阳' }),
      },
    ]);
  });

  it('reports two rows of one file that give one ID two names, whichever row the load kept', async () => {
    const HEAD_1 = testId(41, '51010219600101');
    const HEAD_2 = testId(43, '51010219610101');
    const houses = writeCsv(join(dir, 'housing-dupname.csv'), [
      ['户主姓名', '户主身份证号', '房屋安全等级'],
      ['马凡', HEAD_1, 'C'],
      ['马帆', HEAD_1, 'D'], // the later row wins (no order declared), but the names disagree
      ['鍾华', HEAD_2, 'A'],
      ['钟华', HEAD_2, 'B'], // one name in two scripts: no conflict
    ]);
    const s = await importFeed({ ...base, wh, feed: FEEDS.housing, path: houses });
    expect(s.counts).toMatchObject({ rows_loaded: 2, conflicting_duplicates: 2 });
    await runMatch({ wh, config, log, asOf: '2026-11-24', rules: ['R13'] });
    const found = await wh.db
      .selectFrom('findings')
      .select(['subject_key', 'department', 'name', 'details'])
      .where('rule_id', '=', 'R13')
      .where('subject_key', 'like', '%:dupname:%')
      .execute();
    expect(found).toEqual([
      {
        subject_key: `${HEAD_1}:dupname:housing`,
        department: '住建局',
        name: '马凡',
        details: expect.objectContaining({
          conflict: '同一文件中同一身份证号姓名不一致',
          reference: '第3行姓名：马帆',
          row: 2,
          file: 'housing-dupname.csv',
        }),
      },
    ]);
  });
});
