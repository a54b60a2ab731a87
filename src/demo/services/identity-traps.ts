/**
 * R13's planted cases, records one department writes of a person otherwise: a roster row of the wrong sex, a
 * pupil on the roll under another given name; and the records no ID can be read from — the roster rows the
 * county generator broke, the roll's ID in scientific notation (county.ts).
 */
import { type Focus, sortedIds } from './focus.ts';

export interface IdentityTraps {
  /** Roster rows whose 性别 is written wrong. */
  wrongSexOnRoster: Set<string>;
  /** Student-roll rows written under another name. */
  rollNames: Map<string, string>;
}

export function plantIdentityTraps(
  { county, onRoster, pupils }: Focus,
  alive: (id: string) => boolean,
  severe: ReadonlySet<string>,
): IdentityTraps {
  const wrongSexOnRoster = new Set<string>();
  const sexVictim = onRoster.find((p) => p.relation === '配偶' && alive(p.id));
  if (sexVictim) wrongSexOnRoster.add(sexVictim.id);
  const rollNames = new Map<string, string>();
  const renamed = pupils.find((k) => county.roll.get(k.id) === 'enrolled' && !severe.has(k.id));
  if (renamed)
    rollNames.set(renamed.id, `${renamed.name.slice(0, 1)}${renamed.name.endsWith('星') ? '月' : '星'}`);
  return { wrongSexOnRoster, rollNames };
}

/** R13, as department|kind|id-or-name: rejected IDs (the generator's broken rows), renamed, wrong sex. */
export function r13Truth({ county }: Focus, { wrongSexOnRoster, rollNames }: IdentityTraps): string[] {
  const dep = { roster: '乡村振兴局', student_roll: '教育局' } as const;
  return sortedIds([
    ...county.brokenRosterRows.map((b) => `${dep.roster}|record|${b.person.name}`),
    ...county.persons
      .filter((p) => county.roll.get(p.id) === 'sci_notation_only')
      .map((p) => `${dep.student_roll}|record|${p.name}`),
    ...[...rollNames.keys()].map((id) => `${dep.student_roll}|person|${id}`),
    ...[...wrongSexOnRoster].map((id) => `${dep.roster}|person|${id}`),
  ]);
}
