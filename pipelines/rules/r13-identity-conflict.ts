import { sql } from 'kysely';
import { z } from 'zod';
import { idFacts } from '../../schemas/feed.ts';
import type { ProblemCode } from '../../schemas/vocab.ts';
import { FEED_IDS, FEEDS } from '../feeds/index.ts';
import { loadsAt, validAt } from './as-of.ts';
import { countRows, currentRoster } from './common.ts';
import { details, PERSON, PERSON_FINDING_FIELDS } from './disclose.ts';
import { CLOSED_FINDING_YEARS, STATUTORY_DUTY_BASIS } from './privacy.ts';
import { defineRule, type FindingRow, read } from './rule.ts';

/** ID problems that make a record unlinkable. A missing ID is a completeness problem, not a conflict. */
const ID_PROBLEMS: Partial<Record<ProblemCode, string>> = {
  id_sci_notation: '身份证号被存成数字(科学计数法)，后几位已丢失，无法恢复',
  id_bad_format: '身份证号位数或字符不正确',
  id_bad_region: '身份证号地区码不存在',
  id_bad_checksum: '身份证号校验位错误',
  id_bad_birth_date: '身份证号中的出生日期不存在',
  id_future_birth_date: '身份证号中的出生日期晚于今天',
};

/** Every feed's person columns: the ID it is keyed by and the name beside it (household feeds: the head's). */
const PERSON_COLUMNS = FEED_IDS.filter((f) => f !== 'roster').map((feed) => {
  const fields = FEEDS[feed].fields;
  return {
    feed,
    department: FEEDS[feed].department,
    title: FEEDS[feed].title,
    id: 'id_number' in fields ? 'id_number' : 'head_id_number',
    name: 'name' in fields ? 'name' : 'head_name',
  };
});

/**
 * The fields R13 reads, from the same declarations its query is built from: every feed's person columns (the ID
 * and the name beside it), the sex and birth date it states (ID facts), and the roster's place and household.
 */
const READS = FEED_IDS.map((feed) => {
  const f = FEEDS[feed];
  const facts = idFacts(f);
  const person = PERSON_COLUMNS.find((c) => c.feed === feed);
  const own = feed === 'roster' ? [...PERSON_FINDING_FIELDS] : [person!.id, person!.name];
  const fields = [...own, f.identity?.id, f.identity?.name, facts?.sex, facts?.birthDate];
  return read(f, [...new Set(fields.filter((x): x is string => x !== undefined && x !== null))]);
});

/** feed → its department and title, as a VALUES list aliased `alias`. */
const departmentTable = (alias: string) =>
  sql`(VALUES ${sql.join(
    FEED_IDS.map((f) => sql`(${f}, ${FEEDS[f].department}, ${FEEDS[f].title})`),
  )}) AS ${sql.id(alias)}(feed, department, title)`;
const departmentOf = departmentTable('dep');

/**
 * R13 身份信息冲突, reported to the department whose record needs correcting:
 *   - one ID number whose name in a department's feed differs from the roster's (compared by the name key:
 *     white space, middle dots and traditional/simplified forms do not count as differences); for an ID the
 *     roster does not have, one department's name differing from another's (each of them is told);
 *   - two rows of one file under one ID with different names (kept as a conflicting duplicate by the load);
 *   - a record whose ID was rejected as invalid or unrecoverable by the feed's latest load (from quarantine),
 *     one item per (field, raw value, name), so the same broken row next week is the same item;
 *   - a record loaded under a person's ID through identity resolution (its own ID was missing or wrong);
 *   - a birth date (出生日期) or a sex (性别) a department sent that contradicts the ID it stores the record
 *     under (its sequence digit: odd male, even female), from every feed declaring either (ID facts).
 * The roster is the reference name where it has the ID; elsewhere no department is presumed right.
 */
export const r13 = defineRule({
  id: 'R13',
  name: '身份信息冲突',
  nameEn: 'identity conflict',
  owner: '乡村振兴局',
  owners: [...new Set(FEED_IDS.map((f) => FEEDS[f].department))],
  subjectKind: 'person',
  requires: ['roster'],
  uses: FEED_IDS.filter((f) => f !== 'roster'),
  deadlineDays: 30,
  processing: {
    // What departments' records say about who a person is must be right before any duty can rest on them.
    duty: '保证所处理个人信息的质量，避免因个人信息不准确、不完整对个人权益造成不利影响（《中华人民共和国个人信息保护法》），使各部门依法履职所依据的身份信息准确一致',
    legalBasis: STATUTORY_DUTY_BASIS,
    reads: READS,
    retentionYears: CLOSED_FINDING_YEARS,
    minors: 'included',
  },
  params: z.object({}).strict(),
  disclosed: [
    ...details({ source: '数据来源', row: '行号' }),
    ...PERSON,
    ...details({ raw_id_number: '原始证件号', conflict: '问题', reference: '比对依据' }),
  ],
  population: (db, { asOf }) => currentRoster(db, asOf).select(countRows),
  findings: (_db, { asOf }) => {
    const persons = sql.join(
      PERSON_COLUMNS.map(
        (c) => sql`SELECT ${c.feed}::text AS feed, ${sql.ref(c.id)} AS id, ${sql.ref(c.name)} AS name,
                          source, row_number
                   FROM ${sql.table(c.feed)} WHERE ${validAt(c.feed, asOf)} AND ${sql.ref(c.name)} IS NOT NULL`,
      ),
      sql` UNION ALL `,
    );
    // What departments state that the ID also encodes (schemas/feed.ts, ID facts): every feed declaring 性别 or
    // 出生日期, the roster among them, the same way. A linked record's birth date matched the person's by
    // construction (or an operator decided), so only a record's own ID is held against its birth date; its sex,
    // which linking does not look at, is checked whatever the link.
    const facts = sql.join(
      FEED_IDS.flatMap((feed) => {
        const f = idFacts(FEEDS[feed]);
        if (!f) return [];
        const sex = f.sex ? sql.ref(f.sex) : sql`NULL::text`;
        const born = f.birthDate ? sql.ref(f.birthDate) : sql`NULL::date`;
        const linked = FEEDS[feed].identity ? sql`id_link IS NOT NULL` : sql`FALSE`;
        return [
          sql`SELECT ${feed}::text AS feed, ${sql.ref(f.id)} AS id, ${sql.ref(f.name)} AS name, ${sex} AS sex,
                     CASE WHEN ${linked} THEN NULL ELSE ${born} END AS born, source, row_number
              FROM ${sql.table(feed)}
              WHERE ${validAt(feed, asOf)} AND (${sex} IS NOT NULL OR ${born} IS NOT NULL)`,
        ];
      }),
      sql` UNION ALL `,
    );
    // Records loaded under a person's ID through identity resolution: the department's own copy still has a
    // missing or wrong ID, which it must correct (the correct one is disclosed to it for that).
    const linked = sql.join(
      FEED_IDS.flatMap((feed) => {
        const ident = FEEDS[feed].identity;
        if (!ident) return [];
        return [
          sql`SELECT ${feed}::text AS feed, ${sql.ref(ident.id)} AS id, ${sql.ref(ident.name)} AS name, id_link,
                     source, row_number
              FROM ${sql.table(feed)} WHERE ${validAt(feed, asOf)} AND id_link IS NOT NULL`,
        ];
      }),
      sql` UNION ALL `,
    );
    const problems = Object.entries(ID_PROBLEMS);
    const problemLabel = sql`CASE q.problem ${sql.join(
      problems.map(([code, label]) => sql`WHEN ${code} THEN ${label}`),
      sql` `,
    )} END`;
    return sql<FindingRow>`
      SELECT DISTINCT ON (s.id, s.feed)
             s.id || ':name:' || s.feed AS subject_key, dep.department, 'person' AS subject_kind, s.id AS id_number, p.household_id,
             s.name, p.township, p.village,
             jsonb_build_object('file', s.source, 'source', dep.title || ' ' || s.source, 'row', s.row_number,
               'conflict', '同一身份证号姓名不一致', 'reference', '防返贫监测名册姓名：' || p.name) AS details
      FROM (${persons}) s
      JOIN roster p ON p.id_number = s.id AND ${validAt('p', asOf)}
      JOIN ${departmentOf} ON dep.feed = s.feed
      -- names are stored normalized: equal text needs no key (the key's translate() is the costly part)
      WHERE s.name <> p.name AND rh_name_key(s.name) <> rh_name_key(p.name)
      UNION ALL
      -- An ID the roster does not have (R04/R06 subjects are such persons): departments' names compared with
      -- each other, and each department whose name differs from another's is told, with the other name.
      SELECT * FROM (
        SELECT DISTINCT ON (s.id, s.feed)
               s.id || ':name:' || s.feed, dep.department, 'person', s.id, NULL::text, s.name, NULL::text, NULL::text,
               jsonb_build_object('file', s.source, 'source', dep.title || ' ' || s.source, 'row', s.row_number,
                 'conflict', '同一身份证号姓名不一致', 'reference', odep.title || '姓名：' || o.name)
        FROM (${persons}) s
        JOIN (SELECT x.id FROM (${persons}) x
              WHERE NOT EXISTS (SELECT 1 FROM roster p WHERE p.id_number = x.id AND ${validAt('p', asOf)})
              GROUP BY x.id HAVING count(DISTINCT x.name) > 1) c ON c.id = s.id
        JOIN (${persons}) o ON o.id = s.id AND o.feed <> s.feed AND o.name <> s.name
        JOIN ${departmentOf} ON dep.feed = s.feed
        JOIN ${departmentTable('odep')} ON odep.feed = o.feed
        WHERE rh_name_key(s.name) <> rh_name_key(o.name)
        ORDER BY s.id, s.feed, o.feed, o.name) off_roster
      UNION ALL
      -- Two rows of one file under one ID with different names: the de-duplication order kept one of them, but
      -- which name is right is for the department to say (§5.2: reported, not overwritten).
      SELECT DISTINCT ON (c.person_id, c.feed)
             c.person_id || ':dupname:' || c.feed, dep.department, 'person', c.person_id, p.household_id, c.name,
             p.township, p.village,
             jsonb_build_object('file', c.source, 'source', dep.title || ' ' || c.source, 'row', c.row_number,
               'conflict', '同一文件中同一身份证号姓名不一致',
               'reference', '第' || c.winner_row || '行姓名：' || c.winner_name) AS details
      FROM load_conflicts c
      JOIN ${departmentOf} ON dep.feed = c.feed
      -- The roster rows of the conflicts' IDs alone, looked up by those IDs: load_conflicts stays on a cluster's
      -- coordinator, and joined to the roster as it is, Citus brought the whole roster there; this way the
      -- conflicts' IDs go to the workers and the few matching roster rows come back. One server: a semi-join.
      LEFT JOIN (SELECT p.id_number, p.household_id, p.township, p.village FROM roster p
                 WHERE ${validAt('p', asOf)} AND p.id_number IN (
                   SELECT k.person_id FROM load_conflicts k WHERE k.run_id IN (${loadsAt(asOf)}))) p
        ON p.id_number = c.person_id
      WHERE c.run_id IN (${loadsAt(asOf)})
        AND c.person_id IS NOT NULL AND rh_name_key(c.name) <> rh_name_key(c.winner_name)
      UNION ALL
      SELECT DISTINCT ON (q.feed, q.field, q.raw_value, q.person)
             q.feed || ':rejected:' || md5(q.field || '|' || q.raw_value || '|' || coalesce(q.person, '')),
             dep.department, 'record', NULL, NULL, q.person, NULL, NULL,
             jsonb_build_object('file', q.source, 'source', dep.title || ' ' || q.source || coalesce(' ' || q.sheet, ''),
               'row', q.row_number, 'raw_id_number', q.raw_value, 'conflict', ${problemLabel},
               'reference', '公民身份号码国家标准 GB 11643')
      FROM (SELECT q.*, rh_name(coalesce(q.record ->> 'name', q.record ->> 'head_name')) AS person
            FROM quarantine q) q
      JOIN ${departmentOf} ON dep.feed = q.feed
      WHERE q.run_id IN (${loadsAt(asOf)})
        AND q.field IN ('id_number', 'head_id_number')
        AND q.problem IN (${sql.join(problems.map(([code]) => code))})
      UNION ALL
      SELECT DISTINCT ON (b.id, b.feed)
             b.id || ':birth:' || b.feed, dep.department, 'person', b.id, p.household_id, b.name, p.township, p.village,
             jsonb_build_object('file', b.source, 'source', dep.title || ' ' || b.source, 'row', b.row_number,
               'conflict', '出生日期与身份证号不符',
               'reference', '身份证号中的出生日期为' || to_char(to_date(substr(b.id, 7, 8), 'YYYYMMDD'), 'YYYY-MM-DD'))
      FROM (${facts}) b
      JOIN ${departmentOf} ON dep.feed = b.feed
      LEFT JOIN roster p ON p.id_number = b.id AND ${validAt('p', asOf)}
      WHERE to_char(b.born, 'YYYYMMDD') <> substr(b.id, 7, 8)
      UNION ALL
      SELECT DISTINCT ON (l.id, l.feed)
             l.id || ':linked:' || l.feed, dep.department, 'person', l.id, p.household_id, l.name, p.township, p.village,
             jsonb_build_object('file', l.source, 'source', dep.title || ' ' || l.source, 'row', l.row_number,
               'conflict', '身份证号缺失或有误，已按' ||
                 CASE l.id_link WHEN 'operator' THEN '人工核实' ELSE '姓名、出生日期、村唯一匹配' END || '确认本人，请更正',
               'reference', '防返贫监测名册')
      FROM (${linked}) l
      JOIN ${departmentOf} ON dep.feed = l.feed
      LEFT JOIN roster p ON p.id_number = l.id AND ${validAt('p', asOf)}
      UNION ALL
      -- The roster's items keep the subject they had before every feed's sex was checked (\`<id>:sex\`), so that an
      -- open item is the same item after the upgrade.
      SELECT DISTINCT ON (x.id, x.feed)
             x.id || ':sex' || CASE WHEN x.feed = 'roster' THEN '' ELSE ':' || x.feed END, dep.department, 'person',
             x.id, p.household_id, x.name, p.township, p.village,
             jsonb_build_object('file', x.source, 'source', dep.title || ' ' || x.source, 'row', x.row_number,
               'conflict', '性别与身份证号不符',
               'reference', '身份证号第17位' || CASE WHEN substr(x.id, 17, 1)::int % 2 = 1
                                                    THEN '为奇数(男)' ELSE '为偶数(女)' END)
      FROM (${facts}) x
      JOIN ${departmentOf} ON dep.feed = x.feed
      LEFT JOIN roster p ON p.id_number = x.id AND ${validAt('p', asOf)}
      WHERE x.sex <> CASE WHEN substr(x.id, 17, 1)::int % 2 = 1 THEN 'M' ELSE 'F' END`;
  },
});
