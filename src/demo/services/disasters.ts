/**
 * 应急管理局: households hit by a disaster, one in fifteen. Planted: R12 (a loss above ¥5,000 in the last six
 * months), beside what is none: a light loss, a heavy one eight months ago, a loss of exactly the threshold.
 */
import { daysBefore, monthsBefore } from './dates.ts';
import { type Focus, type Named, named, sortedIds, surveyOneIn } from './focus.ts';

export interface DisasterRecord {
  head: Named;
  type: string;
  hit: string;
  loss: number;
}

export const disasterSurvey = ({ rng, asOf, head }: Focus) =>
  surveyOneIn<DisasterRecord>(
    15,
    3,
    (h, before) => {
      // 0,1: recent and heavy; 2: recent, light; 3: heavy but 8 months ago; 4: exactly the threshold
      const kind = before % 5;
      return {
        head: named(head(h)),
        type: rng.pick(['洪涝', '风雹', '地质灾害', '干旱']),
        hit: kind === 3 ? daysBefore(asOf, rng.int(200, 300)) : daysBefore(asOf, rng.int(5, 150)),
        loss: kind === 2 ? rng.int(800, 4000) : kind === 4 ? 5000 : rng.int(6000, 60000),
      };
    },
    (o) => ({ head: o, type: '洪涝', hit: daysBefore(asOf, 30), loss: 20000 }),
  );

/** R12: households on the roster that lost more than ¥5,000 in the last six months. */
export function r12Truth({ asOf, householdOf }: Focus, records: readonly DisasterRecord[]): string[] {
  const since6 = monthsBefore(asOf, 6);
  return sortedIds(
    records
      .filter((x) => x.hit > since6 && x.hit <= asOf && x.loss > 5000)
      .flatMap((x) => householdOf(x.head.id)?.id ?? []),
  );
}
