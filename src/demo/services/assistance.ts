/**
 * 民政局: assistance (城乡低保, 特困供养, 临时救助). Planted: R05 (a monitored household nobody can work in and
 * no safety net covers: left uncovered, covered by temporary aid only, or by 低保 that ended), R06 (recipients
 * outside the roster, beside the traps that are none: a member registered under a focus head, temporary aid,
 * terminated, ended last month), and R10's assistance still paid after a death.
 */
import type { Person } from '../county.ts';
import { daysBefore, monthsBefore, nextMonthOf } from './dates.ts';
import type { DeathRecord } from './deaths.ts';
import { type Focus, type Named, named, sortedIds } from './focus.ts';

export type AidType = '城乡低保' | '特困供养' | '临时救助';

export interface AssistanceRecord extends Named {
  headId: string | null;
  aid: AidType;
  active: boolean;
  started: string;
  ended: string | null;
  amount: number;
}

export interface Assistance {
  records: AssistanceRecord[];
  /** Person id → their assistance records. */
  aidOf: Map<string, AssistanceRecord[]>;
  /** Whether the person is covered today by 低保 or 特困供养 (temporary aid is no safety net). */
  safetyNet(id: string): boolean;
}

/** Paid today: active, and not ended before the reference date. */
const current = (a: AssistanceRecord, asOf: string) =>
  a.aid !== '临时救助' && a.active && (a.ended === null || a.ended >= asOf);

export function grantAssistance(
  f: Focus,
  ableWorker: (p: Person) => boolean,
  deaths: readonly DeathRecord[],
): Assistance {
  const { rng, asOf, intact, loaded, head, monitoredHouseholds } = f;
  const records: AssistanceRecord[] = [];
  const aidOf = new Map<string, AssistanceRecord[]>();
  // One record per (person, aid type): the feed's business key.
  const aid = (p: Named, aidType: AidType, opts: Partial<AssistanceRecord> = {}) => {
    if (aidOf.get(p.id)?.some((a) => a.aid === aidType)) return;
    const a: AssistanceRecord = {
      ...p,
      headId: null,
      aid: aidType,
      active: true,
      started: daysBefore(asOf, rng.int(90, 1500)),
      ended: null,
      amount: aidType === '特困供养' ? 780 : aidType === '临时救助' ? 1500 : rng.int(350, 620),
      ...opts,
    };
    records.push(a);
    aidOf.set(p.id, [...(aidOf.get(p.id) ?? []), a]);
  };
  for (const h of monitoredHouseholds) {
    const noWorker = !loaded(h).some(ableWorker);
    // Most households without a worker are covered; the rest are R05 findings.
    if (noWorker ? rng.chance(0.65) : rng.chance(0.08))
      aid(named(head(h)), rng.chance(0.85) ? '城乡低保' : '特困供养');
  }
  for (const h of intact.filter((x) => x.type === 'alleviated'))
    if (rng.chance(0.04)) aid(named(head(h)), '城乡低保');
  // Covered only by temporary aid, or by 低保 that ended: still R05 findings if nobody can work.
  const uncovered = monitoredHouseholds.filter((h) => !loaded(h).some(ableWorker) && !aidOf.has(head(h).id));
  if (uncovered[0]) aid(named(head(uncovered[0])), '临时救助');
  if (uncovered[1])
    aid(named(head(uncovered[1])), '城乡低保', { active: false, ended: daysBefore(asOf, 40) });
  // Recipients outside the roster (R06), and the traps.
  for (let i = 0; i < 8; i++) aid(named(f.outsider()), i % 4 === 3 ? '特困供养' : '城乡低保');
  const focusHead = head(intact[0]!);
  aid(named(f.outsider(20, 40)), '城乡低保', { headId: focusHead.id });
  aid(named(f.outsider()), '临时救助');
  aid(named(f.outsider()), '城乡低保', { active: false, ended: daysBefore(asOf, 100) });
  aid(named(f.outsider()), '城乡低保', { ended: daysBefore(asOf, 20) });
  // The dead: assistance still paid after the month of death (R10), or stopped at its end (no finding).
  deaths.forEach((d, i) => {
    if (i % 3 === 0) aid(d, '城乡低保');
    if (i % 3 === 1) aid(d, '特困供养', { ended: daysBefore(nextMonthOf(d.died), 1) });
    // Terminated by now, but only months after the death: paid in between (R10 all the same).
    if (i % 6 === 2) {
      const late = monthsBefore(`${d.died.slice(0, 8)}01`, -3);
      if (late <= asOf) aid(d, '城乡低保', { active: false, ended: daysBefore(late, 1) });
    }
  });
  const safetyNet = (id: string) => (aidOf.get(id) ?? []).some((a) => current(a, asOf));
  return { records, aidOf, safetyNet };
}

/** R05: monitored households nobody in can work, none of whose members a safety net covers. */
export function r05Truth(
  { loaded, monitoredHouseholds }: Focus,
  { safetyNet }: Assistance,
  ableWorker: (p: Person) => boolean,
): string[] {
  return sortedIds(
    monitoredHouseholds
      .filter((h) => !loaded(h).some(ableWorker) && !loaded(h).some((m) => safetyNet(m.id)))
      .map((h) => h.id),
  );
}

/** R06: current 低保 or 特困供养 of someone neither on the roster nor registered under a head on it. */
export function r06Truth({ asOf, householdOf }: Focus, { records }: Assistance): string[] {
  const onRoster = (id: string | null) => id !== null && householdOf(id) !== undefined;
  return sortedIds(
    records.filter((a) => current(a, asOf) && !onRoster(a.id) && !onRoster(a.headId)).map((a) => a.id),
  );
}
