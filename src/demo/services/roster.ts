/**
 * 乡村振兴局: what the roster says of its people beyond who they are — each member's labor capacity and each
 * household's yearly net income per head (write-files.ts spells them). They plant no finding of their own; the
 * other departments judge against them (R04's threshold, R05 and R11's able workers).
 */
import { ageAt } from './dates.ts';
import type { Focus } from './focus.ts';

export type Labor = 'able' | 'weak' | 'lost' | 'none';

export interface RosterAttributes {
  labor: Map<string, Labor>;
  /** Household id → 家庭年人均纯收入. */
  income: Map<string, number>;
}

export function rosterAttributes({ county, rng, asOf }: Focus): RosterAttributes {
  const labor = new Map<string, Labor>();
  for (const p of county.persons) {
    const age = ageAt(p.birth, asOf);
    labor.set(
      p.id,
      age < 16
        ? 'none'
        : age <= 60
          ? rng.weighted({ able: 80, weak: 10, lost: 6, none: 4 })
          : rng.weighted({ able: 8, weak: 30, lost: 32, none: 30 }),
    );
  }
  const income = new Map(county.households.map((h) => [h.id, rng.int(6000, 18000)]));
  return { labor, income };
}
