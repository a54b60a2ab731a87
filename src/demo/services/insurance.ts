/**
 * 医保局: enrollments of this year and last for every person on the roster and every outsider (residents:
 * residents.ts), so R02, R03 and R10 can be judged. Planted: R03 (people entitled to a subsidized enrollment
 * enrolled without its category), R10's enrollment of the dead (their rows as drawn), and a 莊 enrolled as 庄,
 * the same name in another script (no R13 finding).
 */
import type { Assistance } from './assistance.ts';
import { type Focus, type Named, named, sortedIds } from './focus.ts';

/** One insurance row: a person's enrollment in one scheme for one year. */
export interface InsuranceRecord extends Named {
  scheme: '城乡居民' | '职工';
  year: number;
  status: '正常参保' | '暂停' | '终止';
  subsidy: string;
  dirtyId: boolean;
}

export interface Insurance {
  records: InsuranceRecord[];
  /** Rows written under another spelling of the person's name. */
  names: Map<string, string>;
}

export function enrollInsurance(f: Focus, { safetyNet }: Assistance): Insurance {
  const { county, rng, year, onRoster } = f;
  const records: InsuranceRecord[] = [];
  let monitoredGaps = 0;
  for (const p of onRoster) {
    const c = county.insurance.get(p.id)!;
    const entitled = p.household.type === 'monitored' ? '监测对象' : safetyNet(p.id) ? '低保对象' : '';
    // A few entitled people enrolled without the subsidy category (R03).
    const gap =
      entitled !== '' &&
      ['active_resident', 'active_dirty_id'].includes(c) &&
      (safetyNet(p.id) ? rng.chance(0.3) : monitoredGaps < 4 && rng.chance(0.02));
    if (gap && !safetyNet(p.id)) monitoredGaps++;
    const subsidy = gap ? '' : entitled;
    const row = (
      scheme: InsuranceRecord['scheme'],
      y: number,
      status: InsuranceRecord['status'],
      dirtyId = false,
    ) => records.push({ ...named(p), scheme, year: y, status, subsidy, dirtyId });
    if (c === 'previous_year_only' || (c !== 'none' && rng.chance(0.9)))
      row('城乡居民', year - 1, '正常参保');
    if (c === 'active_resident') row('城乡居民', year, '正常参保');
    else if (c === 'active_employee') row('职工', year, '正常参保');
    else if (c === 'active_dirty_id') row('城乡居民', year, '正常参保', true);
    else if (c === 'suspended') row('城乡居民', year, '暂停');
    else if (c === 'terminated') row('城乡居民', year, '终止');
  }
  for (const o of f.outsiders) {
    const gap = safetyNet(o.id) && rng.chance(0.4);
    records.push({
      ...named(o),
      scheme: '城乡居民',
      year,
      status: '正常参保',
      subsidy: gap ? '' : safetyNet(o.id) ? '低保对象' : '',
      dirtyId: false,
    });
  }
  const names = new Map<string, string>();
  const zhuang = onRoster.find(
    (p) => p.name.startsWith('莊') && county.insurance.get(p.id) === 'active_resident',
  );
  if (zhuang) names.set(zhuang.id, `庄${zhuang.name.slice(1)}`);
  return { records, names };
}

/** R03: this year's resident enrollments without a subsidy category of monitored or safety-net people. */
export function r03Truth(
  { year, householdOf }: Focus,
  records: readonly InsuranceRecord[],
  { safetyNet }: Assistance,
): string[] {
  return sortedIds(
    records
      .filter(
        (r) => r.year === year && r.scheme === '城乡居民' && r.status === '正常参保' && r.subsidy === '',
      )
      .filter((r) => householdOf(r.id)?.type === 'monitored' || safetyNet(r.id))
      .map((r) => r.id),
  );
}
