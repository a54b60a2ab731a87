/**
 * What every department's builder shares: the county as the warehouse will know it (the roster rows that load,
 * the households whose members all load), the one seeded draw every department draws from in turn, and the
 * people outside the roster the departments know of (outsiders). The departments' builders run in a fixed
 * order on this one Rng (services/index.ts): the same seed gives the same county.
 */
import { COUNTY, type County, type Household, inCompulsoryWindow, type Person } from '../county.ts';
import { makeIdNumber, personName, randomBirth } from '../people.ts';
import type { Rng } from '../random.ts';
import { ymdOf } from './dates.ts';

export interface Named {
  id: string;
  name: string;
}

export interface Outsider extends Named {
  sex: 'M' | 'F';
  birth: string;
}

export interface Focus {
  county: County;
  rng: Rng;
  asOf: string;
  year: number;
  /** Persons whose roster row loads: everyone the warehouse will know as a focus person. */
  onRoster: Person[];
  /** Households none of whose roster rows is broken. */
  intact: Household[];
  /** Households with at least one member on the roster, and those of them that are monitored. */
  rosterHouseholds: Household[];
  monitoredHouseholds: Household[];
  /** Members the warehouse will hold (a broken roster row is quarantined, not loaded). */
  loaded(h: Household): Person[];
  /** The household's first member on the roster: the head as the household feeds key it. */
  head(h: Household): Person;
  /** The household of a person on the roster. */
  householdOf(id: string): Household | undefined;
  /** Roster children in the compulsory-education window of the county's school year (R01, R07). */
  pupils: Person[];
  /** Everyone outside the roster the departments know of, in the order they were made up. */
  outsiders: Outsider[];
  /** Makes up a person outside the roster, aged `minAge` to `maxAge`, with an ID no one else has. */
  outsider(minAge?: number, maxAge?: number): Outsider;
  /** An ID no one else in the county has (residents beyond the focus population). */
  freshId(birth: string, sex: 'M' | 'F'): string;
}

/**
 * A household feed keyed by the head's ID (housing, water, disasters): the surveyor visits the intact households
 * in turn, together with the others (their draws interleave), then a few outsiders each.
 */
export interface HouseholdSurvey<T> {
  records: T[];
  /** The `i`-th intact household: surveyed or passed over by `i`. */
  visit(h: Household, i: number): void;
  /** A household outside the roster, with a case that would be a finding on it. */
  outsider(head: Named): void;
}

/**
 * A survey of the intact households whose position is `at` modulo `oneIn`; `record` is given the household and
 * how many were surveyed before it.
 */
export function surveyOneIn<T>(
  oneIn: number,
  at: number,
  record: (h: Household, before: number) => T,
  outsider: (head: Named) => T,
): HouseholdSurvey<T> {
  const records: T[] = [];
  return {
    records,
    visit: (h, i) => {
      if (i % oneIn === at) records.push(record(h, records.length));
    },
    outsider: (head) => {
      records.push(outsider(head));
    },
  };
}

export const named = (p: Named): Named => ({ id: p.id, name: p.name });

/** Distinct, sorted: the form of every truth list. */
export const sortedIds = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

export function focusOf(county: County, rng: Rng): Focus {
  const { asOf } = county;
  const year = Number(asOf.slice(0, 4));
  const taken = new Set(county.persons.map((p) => p.id));
  const broken = new Set(county.brokenRosterRows.map((b) => b.person.id));
  const onRoster = county.persons.filter((p) => !broken.has(p.id));
  const loaded = (h: Household) => h.members.filter((m) => !broken.has(m.id));
  const rosterHouseholds = county.households.filter((h) => loaded(h).length > 0);
  const householdOfId = new Map(onRoster.map((p) => [p.id, p.household]));
  const freshId = (birth: string, sex: 'M' | 'F') => makeIdNumber(COUNTY.code, birth, sex, rng, taken);
  const outsiders: Outsider[] = [];
  return {
    county,
    rng,
    asOf,
    year,
    onRoster,
    intact: county.households.filter((h) => h.members.every((m) => !broken.has(m.id))),
    rosterHouseholds,
    monitoredHouseholds: rosterHouseholds.filter((h) => h.type === 'monitored'),
    loaded,
    head: (h) => loaded(h)[0]!,
    householdOf: (id) => householdOfId.get(id),
    pupils: onRoster.filter((p) => inCompulsoryWindow(p.birth, county.schoolYear)),
    outsiders,
    outsider(minAge = 20, maxAge = 80) {
      const sex = rng.chance(0.5) ? 'M' : 'F';
      const birth = randomBirth(rng, year - rng.int(minAge, maxAge), ymdOf(asOf));
      const o: Outsider = { id: freshId(birth, sex), name: personName(rng), sex, birth };
      outsiders.push(o);
      return o;
    },
    freshId,
  };
}
