/**
 * The rest of the county (`--residents`): people in no focus household, insured and sometimes treated as
 * everyone is, which makes the insurance and settlement feeds county-sized for benchmarks. Never a finding by
 * construction.
 */
import { personName, randomBirth } from '../people.ts';
import { daysBefore, ymdOf } from './dates.ts';
import type { Focus } from './focus.ts';
import type { InsuranceRecord } from './insurance.ts';
import type { Settlements } from './settlements.ts';

export function addResidents(
  { rng, asOf, year, freshId }: Focus,
  residents: number,
  insurance: InsuranceRecord[],
  { settle }: Settlements,
): void {
  for (let i = 0; i < residents; i++) {
    const sex = rng.chance(0.5) ? 'M' : 'F';
    const birth = randomBirth(rng, year - rng.int(0, 85), ymdOf(asOf));
    const r = { id: freshId(birth, sex), name: personName(rng) };
    const enrolled = (y: number, scheme: InsuranceRecord['scheme']) =>
      insurance.push({ ...r, scheme, year: y, status: '正常参保', subsidy: '', dirtyId: false });
    if (rng.chance(0.9)) enrolled(year - 1, '城乡居民');
    enrolled(year, rng.chance(0.9) ? '城乡居民' : '职工');
    // one treatment of at most ¥4,000: never above R04's threshold for someone outside the roster
    if (rng.chance(0.05)) settle(r, daysBefore(asOf, rng.int(5, 340)), rng.int(100, 4000));
  }
}
