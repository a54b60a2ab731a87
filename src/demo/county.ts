/**
 * The synthetic demo county: townships, villages, focus households and their members, plus every
 * department's view of them, with known injected findings. The ground truth is written from the generator's
 * own decisions (what it chose to leave out of a feed), never by running the rules.
 */
import { dirtyId, makeIdNumber, personName, randomBirth, sciNotation } from './people.ts';
import { Rng } from './random.ts';

export const COUNTY = { name: '示范县', code: '520102' } as const;
const TOWNSHIPS = ['城关镇', '新场镇', '龙岗镇', '青山乡', '白云乡'];
// Village names repeat across townships, as they do in real counties (DOMAIN §5.4).
const VILLAGES = ['新村', '东风村', '和平村', '龙井村', '中寨村', '红岩村'];
const OTHER_REGIONS = ['520103', '520111', '522121', '522401'];

/** The province and city above the demo county, as the published list names them (Guizhou's codes). */
const PROVINCE = { code: '520000000000', name: '贵州省' } as const;
const CITY = { code: '520100000000', name: '贵阳市' } as const;
/**
 * Other counties of the province, with a few townships and villages each: in the published list, never loaded.
 * Township and village names repeat the demo county's (城关镇, 新村), as they do across real counties.
 */
const OTHER_COUNTIES = [
  {
    city: CITY,
    code: '520103',
    name: '邻县',
    level: '区',
    townships: [
      ['城关镇', ['新村', '东风村']],
      ['河西街道', ['河西社区']],
    ],
  },
  {
    city: { code: '520300000000', name: '遵义市' },
    code: '520303',
    name: '远县',
    level: '县',
    townships: [['新场镇', ['和平村', '中寨村', '红岩村']]],
  },
] as const;

/**
 * The region list as the statistical division code list publishes it for a whole province (行政区划代码, 名称,
 * 级别, 上级代码), in code order: the province, its cities, the demo county — its townships, and every village
 * of every township (codes as the households carry) — and other counties with theirs. Only the demo county's
 * subtree is the region table's; `ruralhub regions load` with county.code skips and counts the rest.
 */
export function regionRows(): string[][] {
  const county = `${COUNTY.code}000000`;
  const rows = [
    ['行政区划代码', '名称', '级别', '上级代码'],
    [PROVINCE.code, PROVINCE.name, '省', ''],
    [CITY.code, CITY.name, '市', PROVINCE.code],
    [county, COUNTY.name, '县', CITY.code],
  ];
  TOWNSHIPS.forEach((t, ti) => {
    const town = `${COUNTY.code}${String(ti + 1).padStart(3, '0')}000`;
    rows.push([town, t, t.endsWith('乡') ? '乡' : '镇', county]);
    VILLAGES.forEach((v, vi) => {
      rows.push([
        `${COUNTY.code}${String(ti + 1).padStart(3, '0')}${String(vi + 1).padStart(3, '0')}`,
        v,
        '村',
        town,
      ]);
    });
  });
  let city: string = CITY.code;
  for (const c of OTHER_COUNTIES) {
    if (c.city.code !== city) rows.push([c.city.code, c.city.name, '市', PROVINCE.code]);
    city = c.city.code;
    const code = `${c.code}000000`;
    rows.push([code, c.name, c.level, city]);
    c.townships.forEach(([t, villages], ti) => {
      const town = `${c.code}${String(ti + 1).padStart(3, '0')}000`;
      rows.push([town, t, t.endsWith('街道') ? '街道' : '镇', code]);
      villages.forEach((v, vi) => {
        const village = `${town.slice(0, 9)}${String(vi + 1).padStart(3, '0')}`;
        rows.push([village, v, v.endsWith('社区') ? '社区' : '村', town]);
      });
    });
  }
  return rows;
}

export interface Person {
  id: string;
  name: string;
  sex: 'M' | 'F';
  birth: string; // YYYYMMDD
  relation: string;
  household: Household;
}

export interface Household {
  id: string;
  type: 'alleviated' | 'monitored';
  township: string;
  village: string;
  villageCode: string;
  members: Person[];
}

/**
 * What two departments know of a focus person, case by case: each case's weight among the draws, and the
 * cases the rule judging that view must find. Declared together, so a new case is weighed and judged at once.
 */
const CASES = {
  /** The education bureau's view of a compulsory-age focus child, judged by R01. */
  roll: {
    weights: {
      enrolled: 80,
      enrolled_dirty_id: 6,
      none: 3,
      dropped_out: 2,
      suspended: 2,
      transferred: 2,
      home_schooled: 2,
      home_schooled_dirty_id: 1,
      sci_notation_only: 1,
      transferred_then_enrolled: 1,
    },
    found: ['none', 'dropped_out', 'suspended', 'transferred', 'sci_notation_only'],
  },
  /** The health insurance bureau's view of a focus person, judged by R02. */
  insurance: {
    weights: {
      active_resident: 85,
      active_employee: 4,
      active_dirty_id: 4,
      none: 2,
      previous_year_only: 2,
      suspended: 1.5,
      terminated: 1.5,
    },
    found: ['none', 'previous_year_only', 'suspended', 'terminated'],
  },
} as const;
export type RollCase = keyof typeof CASES.roll.weights;
export type InsuranceCase = keyof typeof CASES.insurance.weights;

export interface County {
  asOf: string;
  schoolYear: number;
  households: Household[];
  persons: Person[];
  /** Roster rows whose ID is broken: loaded nowhere, part of no truth. */
  brokenRosterRows: { person: Person; raw: string; problem: 'id_sci_notation' | 'id_bad_checksum' }[];
  /** Roster rows written with a dirty but recoverable ID. */
  dirtyRosterIds: Map<string, string>;
  roll: Map<string, RollCase>;
  insurance: Map<string, InsuranceCase>;
  /** Children of the focus population outside the compulsory window who still have no roll (not findings). */
  nonFocusPupils: Person[];
  truth: {
    R01: string[];
    R02: string[];
    /** The rows the generator broke on purpose, as (feed, problem), sorted: import must quarantine exactly these. */
    quarantine: { feed: string; problem: string }[];
  };
}

export interface CountyOptions {
  persons: number;
  seed: number;
  asOf: string;
}

/** The school year asOf falls in: the year its autumn term began. */
export function schoolYearOf(asOf: string): number {
  const y = Number(asOf.slice(0, 4));
  return asOf.slice(5) >= '09-01' ? y : y - 1;
}

/** Compulsory window of school year Y (DOMAIN §6 R01/R07): born after (Y-16)-09-01, on or before (Y-6)-08-31. */
export function inCompulsoryWindow(birth: string, y: number): boolean {
  return birth > `${y - 16}0901` && birth <= `${y - 6}0831`;
}

/**
 * Cycles through every case first so each appears at least once, then draws by weight; gives each draw with
 * whether its rule finds it.
 */
function caseDrawer<K extends string>(
  rng: Rng,
  cases: { weights: Readonly<Record<K, number>>; found: readonly K[] },
): () => [K, boolean] {
  const all = Object.keys(cases.weights) as K[];
  const found: ReadonlySet<K> = new Set(cases.found);
  let i = 0;
  return () => {
    const c = i < all.length ? all[i++]! : rng.weighted(cases.weights);
    return [c, found.has(c)];
  };
}

export function buildCounty(opts: CountyOptions): County {
  const rng = new Rng(opts.seed);
  const taken = new Set<string>();
  const asOfYear = Number(opts.asOf.slice(0, 4));
  const latest = opts.asOf.replace(/-/g, '');
  const y = schoolYearOf(opts.asOf);
  const households: Household[] = [];
  const persons: Person[] = [];
  const add = (h: Household, relation: string, birth: string, sex: 'M' | 'F') => {
    const region = rng.chance(0.9) ? COUNTY.code : rng.pick(OTHER_REGIONS);
    const p: Person = {
      id: makeIdNumber(region, birth, sex, rng, taken),
      name: personName(rng),
      sex,
      birth,
      relation,
      household: h,
    };
    h.members.push(p);
    persons.push(p);
    return p;
  };
  let n = 0;
  while (persons.length < opts.persons) {
    n++;
    const t = rng.int(0, TOWNSHIPS.length - 1);
    const v = rng.int(0, VILLAGES.length - 1);
    const h: Household = {
      id: `${COUNTY.code}${String(t + 1).padStart(3, '0')}${String(v + 1).padStart(3, '0')}${String(n).padStart(5, '0')}`,
      type: rng.chance(0.3) ? 'monitored' : 'alleviated',
      township: TOWNSHIPS[t]!,
      village: VILLAGES[v]!,
      villageCode: `${COUNTY.code}${String(t + 1).padStart(3, '0')}${String(v + 1).padStart(3, '0')}`,
      members: [],
    };
    households.push(h);
    const headAge = rng.int(28, 75);
    const headSex = rng.chance(0.8) ? 'M' : 'F';
    add(h, '户主', randomBirth(rng, asOfYear - headAge, latest), headSex);
    if (rng.chance(0.75))
      add(
        h,
        '配偶',
        randomBirth(rng, asOfYear - headAge + rng.int(-4, 4), latest),
        headSex === 'M' ? 'F' : 'M',
      );
    if (headAge < 60) {
      for (let k = rng.int(0, 3); k > 0; k--) {
        const sex = rng.chance(0.5) ? 'M' : 'F';
        add(
          h,
          sex === 'M' ? '子' : '女',
          randomBirth(rng, asOfYear - rng.int(0, Math.min(22, headAge - 20)), latest),
          sex,
        );
      }
    }
    if (rng.chance(0.2)) add(h, '母亲', randomBirth(rng, asOfYear - headAge - rng.int(22, 30), latest), 'F');
  }
  // Boundary children of R01, in the first households: two inside the window, two just outside.
  const boundary: [string, boolean][] = [
    [`${y - 6}0831`, true],
    [`${y - 6}0901`, false],
    [`${y - 16}0901`, false],
    [`${y - 16}0902`, true],
  ];
  const boundaryKids = boundary.map(([birth], i) =>
    add(households[i % households.length]!, '孙子', birth, 'M'),
  );

  const rollOf = caseDrawer(rng, CASES.roll);
  const insuranceOf = caseDrawer(rng, CASES.insurance);
  const roll = new Map<string, RollCase>();
  const insurance = new Map<string, InsuranceCase>();
  const dirtyRosterIds = new Map<string, string>();
  const brokenRosterRows: County['brokenRosterRows'] = [];
  const nonFocusPupils: Person[] = [];
  const truth: County['truth'] = { R01: [], R02: [], quarantine: [] };

  // Two adults whose roster ID is broken: they are quarantined, so they are in no truth set.
  const adults = persons.filter((p) => p.birth < `${asOfYear - 25}0101`);
  const broken = [adults[3], adults[7]].filter((p): p is Person => p !== undefined);
  brokenRosterRows.push(
    ...broken.map((p, i) => ({
      person: p,
      raw: i === 0 ? sciNotation(p.id) : p.id.slice(0, 17) + (p.id[17] === '0' ? '1' : '0'),
      problem: i === 0 ? ('id_sci_notation' as const) : ('id_bad_checksum' as const),
    })),
  );
  const brokenIds = new Set(broken.map((p) => p.id));

  for (const p of persons) {
    if (brokenIds.has(p.id)) continue;
    if (rng.chance(0.05)) dirtyRosterIds.set(p.id, dirtyId(p.id, rng));
    const isBoundary = boundaryKids.includes(p);
    if (isBoundary) {
      // Boundary children have no roll record at all: only the age window decides.
      roll.set(p.id, 'none');
      if (inCompulsoryWindow(p.birth, y)) truth.R01.push(p.id);
    } else if (inCompulsoryWindow(p.birth, y)) {
      const [c, found] = rollOf();
      roll.set(p.id, c);
      if (found) truth.R01.push(p.id);
    } else if (p.birth > `${y - 19}0901` && p.birth <= `${y - 16}0901`) {
      nonFocusPupils.push(p); // high-school age: some on the roll, none a finding
    }
    const [ic, found] = insuranceOf();
    insurance.set(p.id, ic);
    if (found) truth.R02.push(p.id);
  }
  truth.R01.sort();
  truth.R02.sort();
  const key = (q: { feed: string; problem: string }) => `${q.feed}/${q.problem}`;
  truth.quarantine = [
    ...brokenRosterRows.map((b) => ({ feed: 'roster', problem: b.problem })),
    ...[...roll.values()]
      .filter((c) => c === 'sci_notation_only')
      .map(() => ({ feed: 'student_roll', problem: 'id_sci_notation' })),
  ].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return {
    asOf: opts.asOf,
    schoolYear: y,
    households,
    persons,
    brokenRosterRows,
    dirtyRosterIds,
    roll,
    insurance,
    nonFocusPupils,
    truth,
  };
}
