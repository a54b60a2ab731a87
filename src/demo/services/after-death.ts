/**
 * R10's truth, judged from the three departments that plant it: the deaths registered (deaths.ts), the
 * assistance still paid (assistance.ts), the enrollments still active (insurance.ts).
 */
import type { AssistanceRecord } from './assistance.ts';
import { nextMonthOf } from './dates.ts';
import type { DeathRecord } from './deaths.ts';
import type { Focus } from './focus.ts';
import type { InsuranceRecord } from './insurance.ts';

/**
 * R10, as id:what — the dead still on the roster, still paid assistance after the month of death, still
 * enrolled for a year after the year of death.
 */
export function r10Truth(
  { onRoster }: Focus,
  deaths: readonly DeathRecord[],
  aidOf: ReadonlyMap<string, readonly AssistanceRecord[]>,
  insurance: readonly InsuranceRecord[],
): string[] {
  const rosterIds = new Set(onRoster.map((p) => p.id));
  const dead = new Set(deaths.map((d) => d.id));
  const deadInsurance = insurance.filter((r) => dead.has(r.id));
  const truth: string[] = [];
  for (const d of deaths) {
    if (rosterIds.has(d.id)) truth.push(`${d.id}:roster`);
    const nextMonth = nextMonthOf(d.died);
    const paidAfter = (a: AssistanceRecord) =>
      (a.active && a.ended === null) || (a.ended !== null && a.ended >= nextMonth);
    if ((aidOf.get(d.id) ?? []).some(paidAfter)) truth.push(`${d.id}:assistance`);
    const enrolled = deadInsurance.filter((r) => r.id === d.id);
    if (enrolled.some((r) => r.status === '正常参保' && r.year > Number(d.died.slice(0, 4))))
      truth.push(`${d.id}:insurance`);
  }
  return truth.sort();
}
