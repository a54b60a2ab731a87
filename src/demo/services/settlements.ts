/**
 * 医保局: medical settlements. Planted: R04 (out-of-pocket costs in the last twelve months above the
 * threshold: half the household's yearly income for a focus household, ¥10,000 for anyone else; monitored
 * households are no R04 findings), beside exactly ¥10,000 and a heavy cost thirteen months ago.
 */
import { daysBefore, monthsBefore } from './dates.ts';
import { type Focus, type Named, named, sortedIds } from './focus.ts';

export interface SettlementRecord extends Named {
  sid: string;
  settled: string;
  total: number;
  outOfPocket: number;
}

export interface Settlements {
  records: SettlementRecord[];
  /** One settlement, numbered in the order settled. */
  settle(p: Named, settled: string, outOfPocket: number): void;
}

export function settleTreatments(f: Focus): Settlements {
  const { rng, asOf, year, onRoster, intact, head, monitoredHouseholds } = f;
  const records: SettlementRecord[] = [];
  let sid = 0;
  const settle = (p: Named, settled: string, outOfPocket: number) => {
    records.push({
      ...p,
      sid: `JS${year}${String(++sid).padStart(7, '0')}`,
      settled,
      total: Math.round(outOfPocket * 2.8),
      outOfPocket,
    });
  };
  for (const p of onRoster)
    if (rng.chance(0.04)) settle(named(p), daysBefore(asOf, rng.int(5, 340)), rng.int(200, 4000));
  // Heavy costs: outsiders above ¥10,000 (R04), exactly ¥10,000 (not above), heavy but 13 months ago.
  for (let i = 0; i < 4; i++) {
    const o = named(f.outsider());
    settle(o, daysBefore(asOf, rng.int(20, 120)), rng.int(6000, 9000));
    settle(o, daysBefore(asOf, rng.int(130, 300)), rng.int(4500, 9000));
  }
  const exact = named(f.outsider());
  settle(exact, daysBefore(asOf, 50), 6000);
  settle(exact, daysBefore(asOf, 90), 4000);
  settle(named(f.outsider()), daysBefore(asOf, 400), 30000);
  // Focus people with heavy costs: alleviated (judged against half the household's income), monitored (no R04).
  const alleviated = intact.filter((h) => h.type === 'alleviated');
  for (const h of alleviated.slice(0, 3)) settle(named(head(h)), daysBefore(asOf, 60), 40000);
  for (const h of monitoredHouseholds.slice(0, 2)) settle(named(head(h)), daysBefore(asOf, 60), 40000);
  return { records, settle };
}

/** R04: people whose out-of-pocket costs of the last twelve months pass their threshold. */
export function r04Truth(
  { asOf, loaded, householdOf }: Focus,
  records: readonly SettlementRecord[],
  income: ReadonlyMap<string, number>,
): string[] {
  const since12 = monthsBefore(asOf, 12);
  const oop = new Map<string, number>();
  for (const s of records)
    if (s.settled > since12 && s.settled <= asOf) oop.set(s.id, (oop.get(s.id) ?? 0) + s.outOfPocket);
  return sortedIds(
    [...oop]
      .filter(([id, total]) => {
        const h = householdOf(id);
        if (h?.type === 'monitored') return false;
        const members = h ? loaded(h).length : 0;
        const threshold = h ? 0.5 * income.get(h.id)! * members : 10_000;
        return total > threshold;
      })
      .map(([id]) => id),
  );
}
