/** 水利局: drinking-water checks of one household in eight. Planted: R09 (water not safe). */
import { type Focus, type Named, named, sortedIds, surveyOneIn } from './focus.ts';

export interface WaterRecord {
  head: Named;
  village: string;
  safe: boolean;
  problem: string | null;
}

export const waterSurvey = ({ rng, head }: Focus) =>
  surveyOneIn<WaterRecord>(
    8,
    2,
    (h) => {
      const safe = !rng.chance(0.3);
      return {
        head: named(head(h)),
        village: h.village,
        safe,
        problem: safe ? null : rng.pick(['水量不足', '水质不达标', '取水不便']),
      };
    },
    (o) => ({ head: o, village: '新村', safe: false, problem: '水量不足' }),
  );

/** R09: households on the roster whose water is not safe. */
export const r09Truth = ({ householdOf }: Focus, records: readonly WaterRecord[]) =>
  sortedIds(records.filter((x) => !x.safe).flatMap((x) => householdOf(x.head.id)?.id ?? []));
