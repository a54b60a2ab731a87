import { sql } from 'kysely';
import { z } from 'zod';
import type { Department } from '../../schemas/vocab.ts';
import { assistance } from '../feeds/assistance.ts';
import { deaths } from '../feeds/deaths.ts';
import { insurance } from '../feeds/insurance.ts';
import { roster } from '../feeds/roster.ts';
import { validAt } from './as-of.ts';
import { enumLabel } from './common.ts';
import { details, PERSON, PERSON_FINDING_FIELDS, personFinding, recordFinding } from './disclose.ts';
import { CLOSED_FINDING_YEARS, STATUTORY_DUTY_BASIS } from './privacy.ts';
import { defineRule, read } from './rule.ts';

/** An item is the person's benefit from one feed, for its department to stop: the subject is `<id>:<feed>`. */
const item = (feed: string) => sql<string>`d.id_number || ${sql.lit(`:${feed}`)}`;
const routedTo = (department: Department) => sql<string>`${sql.lit(department)}`.as('department');
/** The details of an item: the date of death and the benefit still running. */
const benefitDetails = (benefit: ReturnType<typeof sql>) =>
  sql<
    Record<string, string | null>
  >`jsonb_build_object('died_on', d.died_on::text, 'benefit', ${benefit})`.as('details');

/**
 * R10 死亡人员待遇未停: a person with a death record (dated on or before the reference date) who is still
 * current on the roster (→ 乡村振兴局), still receives assistance after the month of death or was paid a one-off
 * aid after the day of death (→ 民政局), or is
 * enrolled in insurance for a year after the year of death (→ 医保局). One finding per person and department:
 * the subject is `<id>:<feed>`, so each department closes its own item.
 */
export const r10 = defineRule({
  id: 'R10',
  name: '死亡人员待遇未停',
  nameEn: 'benefits after death',
  owner: '民政局',
  owners: ['民政局', '医保局', '乡村振兴局'],
  subjectKind: 'person',
  requires: ['deaths'],
  uses: ['roster', 'assistance', 'insurance'],
  deadlineDays: 15,
  processing: {
    duty: '待遇动态管理：救助对象、参保人员死亡后按规定停发社会救助、变更医疗保险参保登记，防止错发冒领，并及时更新防止返贫监测名册（《社会救助暂行办法》《中华人民共和国社会保险法》）',
    legalBasis: STATUTORY_DUTY_BASIS,
    reads: [
      read(deaths, ['id_number', 'name', 'died_on']),
      read(roster, [...PERSON_FINDING_FIELDS]),
      read(assistance, ['id_number', 'aid_type', 'status', 'started_on', 'ended_on']),
      read(insurance, ['id_number', 'year', 'status']),
    ],
    retentionYears: CLOSED_FINDING_YEARS,
    minors: 'included',
  },
  params: z.object({}).strict(),
  disclosed: [...PERSON, ...details({ died_on: '死亡日期', benefit: '仍在享受' })],
  population: (db, { asOf }) =>
    db
      .selectFrom('deaths as d')
      .select(sql<number>`count(DISTINCT d.id_number)::int`.as('n'))
      .where(validAt('d', asOf))
      .where('d.died_on', '<=', asOf),
  findings: (db, { asOf }) => {
    const deaths = db
      .selectFrom('deaths as d')
      .where(validAt('d', asOf))
      .where('d.died_on', '<=', asOf)
      .groupBy('d.id_number')
      .select([
        'd.id_number',
        sql<string>`min(d.died_on)`.as('died_on'),
        sql<string>`min(d.name)`.as('name'),
      ]);
    const onRoster = db
      .selectFrom(deaths.as('d'))
      .innerJoin('roster as p', (j) => j.onRef('p.id_number', '=', 'd.id_number').on(validAt('p', asOf)))
      .select([
        ...personFinding('p', { id: 'd.id_number', subject: item('roster') }),
        routedTo('乡村振兴局'),
        benefitDetails(sql`'仍在监测对象名册中'`),
      ]);
    const inAssistance = db
      .selectFrom(deaths.as('d'))
      .innerJoin('assistance as a', (j) => j.onRef('a.id_number', '=', 'd.id_number').on(validAt('a', asOf)))
      // Paid after the death month: still active with no end date, or an end date (whatever the status now) in a
      // later month — a record terminated only in July for a death in March was paid for April to July.
      // A one-off payment (status paid, 临时救助) has no month to run out: it is a finding when it was paid, on its
      // date, after the day of death; one paid on that day or before, or without a date, is not.
      .where((eb) =>
        eb.or([
          eb.and([eb('a.status', '=', 'active'), eb('a.ended_on', 'is', null)]),
          sql<boolean>`a.ended_on >= date_trunc('month', d.died_on::date) + interval '1 month'`,
          eb.and([eb('a.status', '=', 'paid'), eb('a.started_on', '>', eb.ref('d.died_on'))]),
        ]),
      )
      .groupBy(['d.id_number', 'd.died_on', 'd.name'])
      .select([
        ...recordFinding({ id: 'd.id_number', name: sql.ref('d.name'), subject: item('assistance') }),
        routedTo('民政局'),
        benefitDetails(
          // a one-off payment names its date: the department looks it up by it
          sql`string_agg(${enumLabel(assistance, 'aid_type', 'a.aid_type')} || CASE WHEN a.status = 'paid'
            THEN coalesce('(' || a.started_on::text || '发放)', '') ELSE '' END, '、' ORDER BY a.aid_type)`,
        ),
      ]);
    const inInsurance = db
      .selectFrom(deaths.as('d'))
      .innerJoin('insurance as i', (j) => j.onRef('i.id_number', '=', 'd.id_number').on(validAt('i', asOf)))
      .where('i.status', '=', 'active')
      .where(sql<boolean>`i.year > extract(year FROM d.died_on::date)`)
      .groupBy(['d.id_number', 'd.died_on', 'd.name'])
      .select([
        ...recordFinding({ id: 'd.id_number', name: sql.ref('d.name'), subject: item('insurance') }),
        routedTo('医保局'),
        benefitDetails(sql`string_agg(i.year::text || '年度参保', '、' ORDER BY i.year)`),
      ]);
    return onRoster.unionAll(inAssistance).unionAll(inInsurance);
  },
});
