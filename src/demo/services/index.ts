/**
 * What the departments other than the roster's and the school roll's know of the demo county — assistance,
 * housing, water, employment, disability, deaths, disasters, insurance, medical settlements — as plain records,
 * with the findings of R03–R13 these records imply. One file a department (or a household feed), each building
 * its records and planted cases from the shared county state (focus.ts); truth is derived from the generator's
 * own records, by the wording of DOMAIN §6, never by running the rules. write-files.ts only chooses how each
 * record is spelled.
 *
 * The departments draw from one seeded Rng in the order below: a new department's builder goes after the others,
 * or every county already generated changes.
 */
import type { County, Person } from '../county.ts';
import { Rng } from '../random.ts';
import { r10Truth } from './after-death.ts';
import { type AssistanceRecord, grantAssistance, r05Truth, r06Truth } from './assistance.ts';
import { aliveBy, type DeathRecord, registerDeaths } from './deaths.ts';
import { certifyDisabilities, type DisabilityRecord, r07Truth, severelyDisabled } from './disability.ts';
import { type DisasterRecord, disasterSurvey, r12Truth } from './disasters.ts';
import { type EmploymentRecord, r11Truth, registerEmployment } from './employment.ts';
import { focusOf, named, type Outsider } from './focus.ts';
import { type HousingRecord, housingSurvey, r08Truth } from './housing.ts';
import { type IdentityTraps, plantIdentityTraps, r13Truth } from './identity-traps.ts';
import { enrollInsurance, type InsuranceRecord, r03Truth } from './insurance.ts';
import { addResidents } from './residents.ts';
import { type RosterAttributes, rosterAttributes } from './roster.ts';
import { r04Truth, type SettlementRecord, settleTreatments } from './settlements.ts';
import { r09Truth, type WaterRecord, waterSurvey } from './water.ts';

export interface Services extends RosterAttributes, IdentityTraps {
  /** Insurance rows in another script than the roster's name (no finding). */
  insuranceNames: Map<string, string>;
  outsiders: Outsider[];
  insurance: InsuranceRecord[];
  assistance: AssistanceRecord[];
  housing: HousingRecord[];
  water: WaterRecord[];
  employment: EmploymentRecord[];
  disability: DisabilityRecord[];
  deaths: DeathRecord[];
  disasters: DisasterRecord[];
  settlements: SettlementRecord[];
  truth: Record<
    'R03' | 'R04' | 'R05' | 'R06' | 'R07' | 'R08' | 'R09' | 'R10' | 'R11' | 'R12' | 'R13',
    string[]
  >;
}

/**
 * @param residents  other residents of the county (not in any focus household): they are enrolled in
 *   insurance and sometimes treated, as everyone is, and make the feeds county-sized for benchmarks.
 */
export function buildServices(county: County, seed: number, residents = 0): Services {
  const f = focusOf(county, new Rng(seed ^ 0x0a5e));
  const roster = rosterAttributes(f);
  const deaths = registerDeaths(f);
  const alive = aliveBy(deaths);
  const disability = certifyDisabilities(f);
  const severe = severelyDisabled(disability);
  const ableWorker = (p: Person) =>
    ['able', 'weak'].includes(roster.labor.get(p.id)!) && !severe.has(p.id) && alive(p.id);
  const assistance = grantAssistance(f, ableWorker, deaths);
  const insurance = enrollInsurance(f, assistance);
  // The household feeds survey the same households side by side: their draws interleave.
  const surveys = [housingSurvey(f), waterSurvey(f), disasterSurvey(f)] as const;
  const [housing, water, disasters] = surveys;
  f.intact.forEach((h, i) => {
    for (const s of surveys) s.visit(h, i);
  });
  for (let i = 0; i < 3; i++) {
    const o = named(f.outsider());
    for (const s of surveys) s.outsider(o);
  }
  const employment = registerEmployment(f);
  const settlements = settleTreatments(f);
  addResidents(f, residents, insurance.records, settlements);
  const traps = plantIdentityTraps(f, alive, severe);
  return {
    ...roster,
    ...traps,
    insuranceNames: insurance.names,
    outsiders: f.outsiders,
    insurance: insurance.records,
    assistance: assistance.records,
    housing: housing.records,
    water: water.records,
    employment,
    disability,
    deaths,
    disasters: disasters.records,
    settlements: settlements.records,
    truth: {
      R03: r03Truth(f, insurance.records, assistance),
      R04: r04Truth(f, settlements.records, roster.income),
      R05: r05Truth(f, assistance, ableWorker),
      R06: r06Truth(f, assistance),
      R07: r07Truth(f, disability, alive),
      R08: r08Truth(f, housing.records),
      R09: r09Truth(f, water.records),
      R10: r10Truth(f, deaths, assistance.aidOf, insurance.records),
      R11: r11Truth(f, employment, ableWorker),
      R12: r12Truth(f, disasters.records),
      R13: r13Truth(f, traps),
    },
  };
}
