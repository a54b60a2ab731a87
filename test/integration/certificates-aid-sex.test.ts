/**
 * Three cases departments' files bring that the feeds and rules must read as the domain means them:
 *   - a 残疾人证号 (the ID + category and grade digits) in another feed's ID column is the person's ID;
 *   - a one-off aid (临时救助) written as paid (已发放, 已救助 …) is loaded, is no ongoing 低保/特困, and is a
 *     finding when paid after the recipient's death;
 *   - a 性别 sent by any feed that carries one (here the student roll) is checked against the ID (R13).
 */
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import { defineFeed } from '../../schemas/feed.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { STUDENT_ROLL_ROW_HASH } from '../../src/warehouse/migrations/0015-student-roll-sex.ts';
import { testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';

let wh: Warehouse;
const dir = tempDir('ruralhub-cert-aid-sex-');
const log = silentLogger();
const AS_OF = '2026-11-24';
const base = { log, today: AS_OF, timeZone: 'Asia/Shanghai' };
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');

// Children of compulsory age on the reference date, with disability certificates, on no student roll.
const CHILD = testId(11, '52010220150301'); // home-schooled, listed by certificate number
const CHILD_BAD = testId(13, '52010220150505'); // listed by a certificate number whose ID part is wrong
// Monitored households without an able worker: one covered only by a paid one-off aid, one by 低保.
const HEAD_ONE_OFF = testId(21, '52010219600101');
const HEAD_DIBAO = testId(23, '52010219600202');
// On the roster with 性别 女, but the ID's 17th digit is odd (male).
const ROSTER_WRONG_SEX = testId(31, '52010219800101');
// On the student roll: an odd 17th digit (male) written 女, an even one (female) written 女.
const PUPIL_WRONG_SEX = testId(41, '52010220140101');
const PUPIL_RIGHT_SEX = testId(42, '52010220140202');
// Not on the roster: a one-off aid only (no R06), and a 低保 recipient (R06).
const OUTSIDER_ONE_OFF = testId(51, '51010219700101');
const OUTSIDER_DIBAO = testId(53, '51010219700101');
// Dead, with a one-off aid paid after the death; before it; on the day of it.
const DEAD_PAID_AFTER = testId(61, '52010219400101');
const DEAD_PAID_BEFORE = testId(63, '52010219400202');
const DEAD_PAID_SAME_DAY = testId(65, '52010219400303');

const badCheck = (id: string) => id.slice(0, 17) + (id[17] === '1' ? '2' : '1');

const findings = async (rule: string) =>
  wh.db
    .selectFrom('findings')
    .select(['subject_key', 'department', 'details'])
    .where('rule_id', '=', rule)
    .where('state', '<>', 'closed')
    .orderBy('subject_key')
    .execute();
const subjects = async (rule: string) => (await findings(rule)).map((f) => f.subject_key);

async function load(feed: keyof typeof FEEDS, rows: (string | number)[][]) {
  const s = await importFeed({
    ...base,
    wh,
    feed: FEEDS[feed],
    path: writeCsv(join(dir, `${feed}.csv`), rows),
  });
  expect(s.status).toBe('succeeded');
  return s;
}

beforeAll(async () => {
  wh = await testWarehouse('cert_aid_sex');
  await load('roster', [
    ['乡镇', '村', '户编号', '姓名', '证件号码', '性别', '户类型', '劳动技能'],
    ['城关镇', '东村', 'H1', '李小华', CHILD, '男', '监测户', ''],
    ['城关镇', '东村', 'H2', '王小明', CHILD_BAD, '男', '脱贫户', ''],
    ['城关镇', '西村', 'H3', '赵一', HEAD_ONE_OFF, '男', '监测户', '丧失劳动力'],
    ['城关镇', '西村', 'H4', '赵二', HEAD_DIBAO, '男', '监测户', '丧失劳动力'],
    ['城关镇', '西村', 'H5', '钱三', ROSTER_WRONG_SEX, '女', '脱贫户', '普通劳动力'],
  ]);
  await load('disability', [
    ['姓名', '残疾人证号', '残疾类别', '残疾等级', '证件状态'],
    ['李小华', `${CHILD}12`, '视力', '二级', '有效'],
    ['王小明', `${CHILD_BAD}42`, '肢体', '二级', '有效'],
  ]);
  await load('student_roll', [
    ['学生姓名', '身份证件号', '性别', '学籍状态', '更新日期'],
    ['孙小军', PUPIL_WRONG_SEX, '女', '在读', '2026-09-01'],
    ['孙小红', PUPIL_RIGHT_SEX, '女', '在读', '2026-09-01'],
  ]);
});
afterAll(async () => wh?.close());

describe('a 残疾人证号 in another feed’s ID column', () => {
  it('loads a home-schooling row under the person’s ID, so R01 and R07 no longer flag the child', async () => {
    const s = await load('home_schooling', [
      ['姓名', '身份证号', '残疾类别', '送教学校'],
      ['李小华', `${CHILD}12`, '视力', '城关特殊教育学校'],
      // the first 18 characters are no valid ID: still rejected, with the reason of the ID part
      ['王小明', `${badCheck(CHILD_BAD)}42`, '肢体', '城关特殊教育学校'],
    ]);
    expect(s.counts).toMatchObject({ rows_read: 2, rows_loaded: 1, rows_quarantined: 1 });
    const rows = await wh.db
      .selectFrom('home_schooling')
      .select(['id_number', 'name'])
      .where('valid_to', 'is', null)
      .execute();
    expect(rows).toEqual([{ id_number: CHILD, name: '李小华' }]);
    const q = await wh.db
      .selectFrom('quarantine')
      .select(['field', 'problem', 'raw_value'])
      .where('run_id', '=', s.runId)
      .execute();
    expect(q).toEqual([
      { field: 'id_number', problem: 'id_bad_checksum', raw_value: `${badCheck(CHILD_BAD)}42` },
    ]);

    await runMatch({ wh, config, log, asOf: AS_OF, rules: ['R01', 'R07', 'R13'] });
    expect(await subjects('R01')).toEqual([CHILD_BAD]);
    expect(await subjects('R07')).toEqual([CHILD_BAD]);
    // The rejected certificate number is reported to the school's bureau as an invalid ID (R13).
    const rejected = (await findings('R13')).filter((f) =>
      f.subject_key.startsWith('home_schooling:rejected:'),
    );
    expect(rejected).toEqual([
      expect.objectContaining({
        department: '教育局',
        details: expect.objectContaining({
          raw_id_number: `${badCheck(CHILD_BAD)}42`,
          conflict: '身份证号校验位错误',
        }),
      }),
    ]);
  });
});

describe('a one-off aid written as paid', () => {
  it('is loaded as paid, is no ongoing 低保/特困 (R05, R06), and is an R10 finding when paid after death', async () => {
    const s = await load('assistance', [
      ['姓名', '身份证号', '救助类型', '发放日期', '状态'],
      ['赵一', HEAD_ONE_OFF, '临时救助', '2026-05-01', '已发放'],
      ['赵二', HEAD_DIBAO, '城乡低保', '2024-01-01', '正常'],
      ['周五', OUTSIDER_ONE_OFF, '临时救助', '2026-02-01', '已救助'],
      ['吴六', OUTSIDER_DIBAO, '城乡低保', '2023-01-01', '正常'],
      ['郑七', DEAD_PAID_AFTER, '临时救助', '2026-05-20', '已领取'],
      ['王八', DEAD_PAID_BEFORE, '临时救助', '2026-06-01', '发放完成'],
      ['冯九', DEAD_PAID_SAME_DAY, '临时救助', '2026-06-15', ' 已完成 '],
    ]);
    expect(s.counts).toMatchObject({ rows_read: 7, rows_loaded: 7, rows_quarantined: 0 });
    const statuses = await wh.db
      .selectFrom('assistance')
      .select(['aid_type', 'status', sql<number>`count(*)::int`.as('n')])
      .where('valid_to', 'is', null)
      .groupBy(['aid_type', 'status'])
      .orderBy('aid_type')
      .execute();
    expect(statuses).toEqual([
      { aid_type: 'minimum_living', status: 'active', n: 2 },
      { aid_type: 'temporary', status: 'paid', n: 5 },
    ]);
    await load('deaths', [
      ['姓名', '公民身份号码', '死亡日期', '注销日期'],
      ['郑七', DEAD_PAID_AFTER, '2026-03-10', '2026-03-20'],
      ['王八', DEAD_PAID_BEFORE, '2026-06-15', '2026-06-20'],
      ['冯九', DEAD_PAID_SAME_DAY, '2026-06-15', '2026-06-20'],
    ]);

    await runMatch({ wh, config, log, asOf: AS_OF, rules: ['R05', 'R06', 'R10'] });
    // H3's only support is a one-off payment: its safety net is still missing. H4 has 低保.
    const r05 = await subjects('R05');
    expect(r05).toContain('H3');
    expect(r05).not.toContain('H4');
    expect(await subjects('R06')).toEqual([OUTSIDER_DIBAO]);
    expect(await findings('R10')).toEqual([
      {
        subject_key: `${DEAD_PAID_AFTER}:assistance`,
        department: '民政局',
        details: { died_on: '2026-03-10', benefit: '临时救助(2026-05-20发放)' },
      },
    ]);
  });
});

describe('a 性别 from any feed that carries one', () => {
  it('is loaded with the student roll, and one contradicting the ID is reported to the roll’s department', async () => {
    const roll = await wh.db
      .selectFrom('student_roll')
      .select(['id_number', 'sex'])
      .where('valid_to', 'is', null)
      .orderBy('id_number')
      .execute();
    expect(roll).toEqual([
      { id_number: PUPIL_WRONG_SEX, sex: 'F' },
      { id_number: PUPIL_RIGHT_SEX, sex: 'F' },
    ]);

    await runMatch({ wh, config, log, asOf: AS_OF, rules: ['R13'] });
    const sex = (await findings('R13')).filter((f) => f.subject_key.includes(':sex'));
    expect(sex).toEqual([
      // the roster's items keep the subject they had before every feed's sex was checked
      {
        subject_key: `${ROSTER_WRONG_SEX}:sex`,
        department: '乡村振兴局',
        details: expect.objectContaining({
          conflict: '性别与身份证号不符',
          reference: '身份证号第17位为奇数(男)',
          row: 6,
        }),
      },
      {
        subject_key: `${PUPIL_WRONG_SEX}:sex:student_roll`,
        department: '教育局',
        details: expect.objectContaining({
          conflict: '性别与身份证号不符',
          reference: '身份证号第17位为奇数(男)',
          source: expect.stringMatching(/^学生学籍名册 /),
          row: 2,
        }),
      },
    ]);
  });

  it('kept the roll’s row hashes as migration 0015 recomputes them (no new version of an unchanged child)', async () => {
    const { rows } = await sql<{ n: number; differ: number }>`
      SELECT count(*)::int AS n, count(*) FILTER (WHERE row_hash <> ${STUDENT_ROLL_ROW_HASH})::int AS differ
      FROM student_roll WHERE valid_to IS NULL`.execute(wh.db);
    expect(rows[0]).toEqual({ n: 2, differ: 0 });
  });

  it('is declared by its canonical name, and only as M/F', () => {
    const roll = FEEDS.student_roll;
    expect(() =>
      defineFeed({
        ...roll,
        fields: {
          ...roll.fields,
          sex: { type: { kind: 'text' }, aliases: ['性别'], classification: '敏感个人信息' },
        },
      }),
    ).toThrow(/sex must be an enum of M and F/);
  });
});
