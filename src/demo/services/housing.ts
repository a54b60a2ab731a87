/** 住建局: housing safety assessments of one household in six. Planted: R08 (grade C or D, not rebuilt). */
import { daysBefore } from './dates.ts';
import { type Focus, type Named, named, sortedIds, surveyOneIn } from './focus.ts';

export interface HousingRecord {
  head: Named;
  grade: 'A' | 'B' | 'C' | 'D';
  status: '未改造' | '改造中' | '已竣工' | null;
  assessed: string;
}

export const housingSurvey = ({ rng, asOf, head }: Focus) =>
  surveyOneIn<HousingRecord>(
    6,
    1,
    (h) => {
      const grade = rng.weighted({ A: 35, B: 30, C: 18, D: 17 });
      const status =
        grade === 'C' || grade === 'D' ? rng.pick(['未改造', '改造中', '已竣工'] as const) : null;
      return { head: named(head(h)), grade, status, assessed: daysBefore(asOf, rng.int(100, 900)) };
    },
    (o) => ({ head: o, grade: 'D', status: '未改造', assessed: daysBefore(asOf, 300) }),
  );

/** R08: households on the roster whose house is of grade C or D and not rebuilt. */
export const r08Truth = ({ householdOf }: Focus, records: readonly HousingRecord[]) =>
  sortedIds(
    records
      .filter((x) => (x.grade === 'C' || x.grade === 'D') && x.status !== '已竣工')
      .flatMap((x) => householdOf(x.head.id)?.id ?? []),
  );
