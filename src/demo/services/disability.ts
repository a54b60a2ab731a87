/**
 * 残联: disability certificates. Planted: R07 (a certified child nobody placed, in school or home-delivered;
 * a revoked certificate is no finding), and the severe certificates that make a monitored adult no able
 * worker (R05, R11). Every home-delivered child holds one, or R07 would find them.
 */
import type { Person } from '../county.ts';
import { ageAt, daysBefore } from './dates.ts';
import { type Focus, type Named, named, type Outsider, sortedIds } from './focus.ts';

export interface DisabilityRecord extends Named {
  category: string;
  grade: 1 | 2 | 3 | 4;
  valid: boolean;
  issued: string;
}

/** Roll cases in which a child is placed: enrolled, in the end, or taught at home. */
const PLACED = new Set([
  'enrolled',
  'enrolled_dirty_id',
  'transferred_then_enrolled',
  'home_schooled',
  'home_schooled_dirty_id',
]);

export function certifyDisabilities(f: Focus): DisabilityRecord[] {
  const { county, rng, asOf, onRoster, pupils } = f;
  const disability: DisabilityRecord[] = [];
  const certified = new Set<string>();
  const cert = (p: Person | Outsider, grade: 1 | 2 | 3 | 4, valid = true) =>
    !certified.has(p.id) &&
    certified.add(p.id) &&
    disability.push({
      ...named(p),
      category: rng.pick(['肢体残疾', '智力残疾', '视力残疾', '听力残疾', '多重残疾']),
      grade,
      valid,
      issued: daysBefore(asOf, rng.int(60, 2000)),
    });
  const rollCase = (p: Person) => county.roll.get(p.id);
  for (const p of pupils) if (rollCase(p)?.startsWith('home_schooled')) cert(p, rng.pick([1, 2, 3] as const));
  // Some enrolled children hold one too; and some children nobody placed (R07).
  for (const p of pupils.filter((k) => rollCase(k) === 'enrolled').slice(0, 4))
    cert(p, rng.pick([3, 4] as const));
  const unplaced = pupils.filter((k) => ['none', 'dropped_out', 'suspended'].includes(rollCase(k) ?? ''));
  unplaced.slice(0, 3).forEach((p, i) => {
    cert(p, rng.pick([2, 3] as const), i !== 2); // the third's certificate is revoked: no R07 finding
  });
  // Working-age monitored adults with a severe disability: not able workers (R05, R11).
  const monitoredAdults = onRoster.filter(
    (p) => p.household.type === 'monitored' && ageAt(p.birth, asOf) >= 16 && ageAt(p.birth, asOf) <= 60,
  );
  for (const p of monitoredAdults.filter((_, i) => i % 37 === 5)) cert(p, rng.pick([1, 2] as const));
  for (const p of monitoredAdults.filter((_, i) => i % 41 === 7)) cert(p, 4); // mild: still able
  for (let i = 0; i < 5; i++) cert(f.outsider(), rng.pick([1, 2, 3, 4] as const));
  return disability;
}

/** Holders of a valid certificate of grade 1 or 2. */
export const severelyDisabled = (disability: readonly DisabilityRecord[]) =>
  new Set(disability.filter((d) => d.valid && d.grade <= 2).map((d) => d.id));

/** R07: certified children of the compulsory window, alive, in no placed roll case. */
export function r07Truth(
  { county, pupils }: Focus,
  disability: readonly DisabilityRecord[],
  alive: (id: string) => boolean,
): string[] {
  const pupilIds = new Set(pupils.map((k) => k.id));
  return sortedIds(
    disability
      .filter((d) => d.valid && pupilIds.has(d.id) && !PLACED.has(county.roll.get(d.id) ?? '') && alive(d.id))
      .map((d) => d.id),
  );
}
