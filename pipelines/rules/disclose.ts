/**
 * What a list discloses, the parts rules share: the columns naming the person or household a finding is about
 * (their Chinese headers are what departments know them by), and the finding-row columns that fill them. A rule
 * file adds only its own detail columns.
 */
import { type RawBuilder, sql } from 'kysely';
import type { DisclosedField, FindingColumn } from './rule.ts';

const column = (key: FindingColumn, label: string): DisclosedField => ({ key, label, from: 'finding' });

/** 乡镇, 村: where the subject lives (from the roster; empty for a person it does not have). */
export const PLACE: readonly DisclosedField[] = [column('township', '乡镇'), column('village', '村')];
/** 姓名, 身份证号. */
export const PERSON: readonly DisclosedField[] = [column('name', '姓名'), column('id_number', '身份证号')];
/** 乡镇, 村, 户编号, 姓名, 身份证号: a person of a household on the roster. */
export const PERSON_IN_HOUSEHOLD: readonly DisclosedField[] = [
  ...PLACE,
  column('household_id', '户编号'),
  ...PERSON,
];
/** 乡镇, 村, 姓名, 身份证号: a person a department names, who may be off the roster (no household number). */
export const PERSON_IN_PLACE: readonly DisclosedField[] = [...PLACE, ...PERSON];
/** 乡镇, 村, 户编号, 户主姓名, 户主身份证号: a household, named by its head. */
export const HOUSEHOLD: readonly DisclosedField[] = [
  ...PLACE,
  column('household_id', '户编号'),
  column('name', '户主姓名'),
  column('id_number', '户主身份证号'),
];

/** A rule's own columns, from FindingRow.details, in the order given: `{ key: '中文表头' }`. */
export const details = (labels: Readonly<Record<string, string>>): DisclosedField[] =>
  Object.entries(labels).map(([key, label]) => ({ key, label, from: 'details' }));

/** Where a finding's person comes from when it is not (only) the roster row: see personFinding. */
export interface FindingPerson {
  /** The ID column (`alias.column`). */
  id: string;
  /** The name to show. */
  name?: RawBuilder<string | null>;
  /** The subject key, when it is more than the ID (R10: the ID and what the item is about). */
  subject?: RawBuilder<string>;
}

/** The roster fields personFinding reads: what a rule's record of processing lists for it (rule.ts). */
export const PERSON_FINDING_FIELDS = ['id_number', 'name', 'household_id', 'township', 'village'] as const;

/**
 * The finding columns of a person, household and place taken from the current roster row aliased `p`. The
 * person is the roster row's unless `from` names another row (a department's record of a person the roster
 * may not have: its ID, and the name to show).
 */
export function personFinding(p: string, from?: FindingPerson) {
  const id = from?.id ?? `${p}.id_number`;
  return [
    (from?.subject ?? sql.ref<string>(id)).as('subject_key'),
    sql.ref<string>(id).as('id_number'),
    sql.ref<string | null>(`${p}.household_id`).as('household_id'),
    (from?.name ?? sql.ref<string | null>(`${p}.name`)).as('name'),
    sql.ref<string | null>(`${p}.township`).as('township'),
    sql.ref<string | null>(`${p}.village`).as('village'),
  ] as const;
}

/** The finding columns of a person known by a department's record alone: no household, no place. */
export const recordFinding = (from: Required<Pick<FindingPerson, 'id' | 'name'>> & FindingPerson) =>
  [
    (from.subject ?? sql.ref<string>(from.id)).as('subject_key'),
    sql.ref<string>(from.id).as('id_number'),
    sql<string | null>`NULL`.as('household_id'),
    from.name.as('name'),
    sql<string | null>`NULL`.as('township'),
    sql<string | null>`NULL`.as('village'),
  ] as const;

/** The finding columns of a focus household (a row of common.ts's `focusHouseholds`, aliased `h`). */
export const householdFinding = (h: string) =>
  [
    sql.ref<string>(`${h}.household_id`).as('subject_key'),
    sql.ref<string>(`${h}.head_id`).as('id_number'),
    sql.ref<string>(`${h}.household_id`).as('household_id'),
    sql.ref<string>(`${h}.head_name`).as('name'),
    sql.ref<string | null>(`${h}.township`).as('township'),
    sql.ref<string | null>(`${h}.village`).as('village'),
  ] as const;
