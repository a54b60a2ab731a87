/**
 * 人社局: job registrations and training of the roster's people of 16 to 64. Planted: R11 (a monitored able
 * worker of 16 to 60 with no job registered and no training ended in the last twelve months — an old job or
 * unemployment does not count).
 */
import type { Person } from '../county.ts';
import { ageAt, daysBefore, monthsBefore } from './dates.ts';
import { type Focus, type Named, named, sortedIds } from './focus.ts';

export interface EmploymentRecord extends Named {
  employed: boolean;
  form: string | null;
  registered: string;
  trainingEnded: string | null;
  monthlyIncome: number | null;
}

export function registerEmployment({ rng, asOf, onRoster }: Focus): EmploymentRecord[] {
  const employment: EmploymentRecord[] = [];
  for (const p of onRoster.filter((x) => ageAt(x.birth, asOf) >= 16 && ageAt(x.birth, asOf) <= 64)) {
    const k = rng.weighted({ recent_job: 62, training: 10, old_job: 8, unemployed: 5, nothing: 15 });
    const job = (registered: string, employed = true) =>
      employment.push({
        ...named(p),
        employed,
        form: employed ? rng.pick(['省内务工', '省外务工', '公益性岗位', '灵活就业', '县内务工']) : null,
        registered,
        trainingEnded: null,
        monthlyIncome: employed ? rng.int(1800, 6500) : null,
      });
    if (k === 'recent_job') job(daysBefore(asOf, rng.int(5, 330)));
    else if (k === 'old_job') job(daysBefore(asOf, rng.int(380, 700)));
    else if (k === 'unemployed') job(daysBefore(asOf, rng.int(5, 300)), false);
    else if (k === 'training')
      employment.push({
        ...named(p),
        employed: false,
        form: null,
        registered: daysBefore(asOf, rng.int(60, 330)),
        trainingEnded: daysBefore(asOf, rng.int(5, 50)),
        monthlyIncome: null,
      });
  }
  return employment;
}

/** R11: monitored able workers of 16 to 60 who neither took a job nor ended a training in twelve months. */
export function r11Truth(
  { asOf, onRoster }: Focus,
  employment: readonly EmploymentRecord[],
  ableWorker: (p: Person) => boolean,
): string[] {
  const since12 = monthsBefore(asOf, 12);
  const recent = (d: string | null) => d !== null && d > since12 && d <= asOf;
  const worked = new Set(
    employment
      .filter((e) => (e.employed && recent(e.registered)) || recent(e.trainingEnded))
      .map((e) => e.id),
  );
  return sortedIds(
    onRoster
      .filter(
        (p) => p.household.type === 'monitored' && ageAt(p.birth, asOf) >= 16 && ageAt(p.birth, asOf) <= 60,
      )
      .filter((p) => ableWorker(p) && !worked.has(p.id))
      .map((p) => p.id),
  );
}
