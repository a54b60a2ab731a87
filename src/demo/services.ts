/**
 * What the other departments know of the demo county (assistance, housing, water, employment, disability,
 * deaths, disasters, medical settlements), decided here as plain records, with the findings of R03–R13 that
 * these decisions imply. Truth is derived from the generator's own records, by the wording of DOMAIN §6,
 * never by running the rules; write-files.ts only chooses how each record is spelled.
 */
import { COUNTY, type County, type Household, type Person } from './county.ts';
import { makeIdNumber, personName, randomBirth } from './people.ts';
import { Rng } from './random.ts';

export type Labor = 'able' | 'weak' | 'lost' | 'none';
export type AidType = '城乡低保' | '特困供养' | '临时救助';

export interface Outsider {
  id: string;
  name: string;
  sex: 'M' | 'F';
  birth: string;
}
interface Named {
  id: string;
  name: string;
}

export interface AssistanceRecord extends Named {
  headId: string | null;
  aid: AidType;
  active: boolean;
  started: string;
  ended: string | null;
  amount: number;
}
export interface HousingRecord {
  head: Named;
  grade: 'A' | 'B' | 'C' | 'D';
  status: '未改造' | '改造中' | '已竣工' | null;
  assessed: string;
}
export interface WaterRecord {
  head: Named;
  village: string;
  safe: boolean;
  problem: string | null;
}
export interface EmploymentRecord extends Named {
  employed: boolean;
  form: string | null;
  registered: string;
  trainingEnded: string | null;
  monthlyIncome: number | null;
}
export interface DisabilityRecord extends Named {
  category: string;
  grade: 1 | 2 | 3 | 4;
  valid: boolean;
  issued: string;
}
export interface DeathRecord extends Named {
  died: string;
  deregistered: string;
}
export interface DisasterRecord {
  head: Named;
  type: string;
  hit: string;
  loss: number;
}
export interface SettlementRecord extends Named {
  sid: string;
  settled: string;
  total: number;
  outOfPocket: number;
}
/** One insurance row: this year's and last year's enrollments of every person (roster and outsiders). */
export interface InsuranceRecord extends Named {
  scheme: '城乡居民' | '职工';
  year: number;
  status: '正常参保' | '暂停' | '终止';
  subsidy: string;
  dirtyId: boolean;
}

export interface Services {
  labor: Map<string, Labor>;
  /** Household id → 家庭年人均纯收入. */
  income: Map<string, number>;
  /** Roster rows whose 性别 is written wrong (R13). */
  wrongSexOnRoster: Set<string>;
  /** Student-roll rows written under another name (R13), and insurance rows in another script (no finding). */
  rollNames: Map<string, string>;
  insuranceNames: Map<string, string>;
  outsiders: Outsider[];
  insurance: InsuranceRecord[];
  assistance: AssistanceRecord[];
  housing: HousingRecord[];
  water: WaterRecord[];
  employment: EmploymentRecord[];
  disability: DisabilityRecord[];
  deaths: DeathRecord[];
  disasters: DisasterRecord[];
  settlements: SettlementRecord[];
  truth: Record<
    'R03' | 'R04' | 'R05' | 'R06' | 'R07' | 'R08' | 'R09' | 'R10' | 'R11' | 'R12' | 'R13',
    string[]
  >;
}

const DAY = 86_400_000;
/** ISO date `days` before the reference date. */
const daysBefore = (asOf: string, days: number) =>
  new Date(Date.parse(`${asOf}T00:00:00Z`) - days * DAY).toISOString().slice(0, 10);
/** ISO date of the reference date moved back whole months (PostgreSQL's interval arithmetic: clamp the day). */
function monthsBefore(asOf: string, months: number): string {
  const [y, m, d] = asOf.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) - months;
  const yy = Math.floor(total / 12);
  const mm = (total % 12) + 1;
  const last = new Date(Date.UTC(yy, mm, 0)).getUTCDate();
  return `${yy}-${String(mm).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}
const ymdOf = (iso: string) => iso.replace(/-/g, '');
/** Age in whole years at the reference date, from YYYYMMDD. */
const ageAt = (birth: string, asOf: string) =>
  Number(asOf.slice(0, 4)) - Number(birth.slice(0, 4)) - (ymdOf(asOf).slice(4) < birth.slice(4) ? 1 : 0);

function sorted(xs: Iterable<string>): string[] {
  return [...new Set(xs)].sort();
}

/**
 * @param residents  other residents of the county (not in any focus household): they are enrolled in
 *   insurance and sometimes treated, as everyone is, and make the feeds county-sized for benchmarks.
 */
export function buildServices(county: County, seed: number, residents = 0): Services {
  const rng = new Rng(seed ^ 0x0a5e);
  const { asOf } = county;
  const year = Number(asOf.slice(0, 4));
  const taken = new Set(county.persons.map((p) => p.id));
  const broken = new Set(county.brokenRosterRows.map((b) => b.person.id));
  /** Persons whose roster row loads: everyone the warehouse will know as a focus person. */
  const onRoster = county.persons.filter((p) => !broken.has(p.id));
  const intact = county.households.filter((h) => h.members.every((m) => !broken.has(m.id)));
  /** Members the warehouse will hold (a broken roster row is quarantined, not loaded). */
  const loaded = (h: Household) => h.members.filter((m) => !broken.has(m.id));
  const rosterHouseholds = county.households.filter((h) => loaded(h).length > 0);
  const head = (h: Household) => loaded(h)[0]!;
  const named = (p: Person | Outsider): Named => ({ id: p.id, name: p.name });

  // ---- roster attributes ------------------------------------------------------------------------------
  const labor = new Map<string, Labor>();
  for (const p of county.persons) {
    const age = ageAt(p.birth, asOf);
    labor.set(
      p.id,
      age < 16
        ? 'none'
        : age <= 60
          ? rng.weighted({ able: 80, weak: 10, lost: 6, none: 4 })
          : rng.weighted({ able: 8, weak: 30, lost: 32, none: 30 }),
    );
  }
  const income = new Map(county.households.map((h) => [h.id, rng.int(6000, 18000)]));

  const outsiders: Outsider[] = [];
  const outsider = (minAge = 20, maxAge = 80): Outsider => {
    const sex = rng.chance(0.5) ? 'M' : 'F';
    const birth = randomBirth(rng, year - rng.int(minAge, maxAge), ymdOf(asOf));
    const o = {
      id: makeIdNumber(COUNTY.code, birth, sex, rng, taken),
      name: personName(rng),
      sex,
      birth,
    } as const;
    outsiders.push(o);
    return o;
  };

  // ---- deaths: adults of 45 and over, all still on the (stale) roster -------------------------------
  const deaths: DeathRecord[] = [];
  const elders = onRoster.filter((p) => ageAt(p.birth, asOf) >= 45);
  const deadCount = Math.max(6, Math.round(elders.length * 0.006));
  for (let i = 0; i < deadCount && i < elders.length; i++) {
    const p = elders[Math.floor((i * elders.length) / deadCount)]!;
    // Spread over the last 11 months, so some deaths fall in last calendar year (R10 insurance).
    // Spread over the last year, the oldest in the previous calendar year for most reference dates (R10).
    const died = daysBefore(asOf, [20, 70, 130, 190, 260, 350][i % 6]! + rng.int(0, 9));
    deaths.push({ ...named(p), died, deregistered: daysBefore(died, -rng.int(3, 9)) });
  }
  const deadOn = new Map(deaths.map((d) => [d.id, d.died]));
  const alive = (id: string) => !deadOn.has(id);

  // ---- disability certificates ---------------------------------------------------------------------
  const disability: DisabilityRecord[] = [];
  const certified = new Set<string>();
  const cert = (p: Person | Outsider, grade: 1 | 2 | 3 | 4, valid = true) =>
    !certified.has(p.id) &&
    certified.add(p.id) &&
    disability.push({
      ...named(p),
      category: rng.pick(['肢体残疾', '智力残疾', '视力残疾', '听力残疾', '多重残疾']),
      grade,
      valid,
      issued: daysBefore(asOf, rng.int(60, 2000)),
    });
  const window = schoolWindow(county);
  const kids = onRoster.filter((p) => window(p.birth));
  const rollCase = (p: Person) => county.roll.get(p.id);
  // Every home-delivered child holds a certificate (they must not be R07 findings).
  for (const p of kids) if (rollCase(p)?.startsWith('home_schooled')) cert(p, rng.pick([1, 2, 3] as const));
  // Some enrolled children hold one too; and some children nobody placed (R07).
  for (const p of kids.filter((k) => rollCase(k) === 'enrolled').slice(0, 4))
    cert(p, rng.pick([3, 4] as const));
  const unplaced = kids.filter((k) => ['none', 'dropped_out', 'suspended'].includes(rollCase(k) ?? ''));
  unplaced.slice(0, 3).forEach((p, i) => {
    cert(p, rng.pick([2, 3] as const), i !== 2); // the third's certificate is revoked: no R07 finding
  });
  // Working-age monitored adults with a severe disability: not able workers (R05, R11).
  const monitoredAdults = onRoster.filter(
    (p) => p.household.type === 'monitored' && ageAt(p.birth, asOf) >= 16 && ageAt(p.birth, asOf) <= 60,
  );
  for (const p of monitoredAdults.filter((_, i) => i % 37 === 5)) cert(p, rng.pick([1, 2] as const));
  for (const p of monitoredAdults.filter((_, i) => i % 41 === 7)) cert(p, 4); // mild: still able
  for (let i = 0; i < 5; i++) cert(outsider(), rng.pick([1, 2, 3, 4] as const));
  const severe = new Set(disability.filter((d) => d.valid && d.grade <= 2).map((d) => d.id));
  const ableWorker = (p: Person) =>
    ['able', 'weak'].includes(labor.get(p.id)!) && !severe.has(p.id) && alive(p.id);

  // ---- assistance (低保/特困/临时救助) ------------------------------------------------------------
  const assistance: AssistanceRecord[] = [];
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
    assistance.push(a);
    aidOf.set(p.id, [...(aidOf.get(p.id) ?? []), a]);
  };
  const monitoredHouseholds = rosterHouseholds.filter((h) => h.type === 'monitored');
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
  // Recipients outside the roster (R06), and the traps: a member of a focus household registered under its
  // head, temporary aid only, terminated, ended last month.
  for (let i = 0; i < 8; i++) aid(named(outsider()), i % 4 === 3 ? '特困供养' : '城乡低保');
  const focusHead = head(intact[0]!);
  aid(named(outsider(20, 40)), '城乡低保', { headId: focusHead.id });
  aid(named(outsider()), '临时救助');
  aid(named(outsider()), '城乡低保', { active: false, ended: daysBefore(asOf, 100) });
  aid(named(outsider()), '城乡低保', { ended: daysBefore(asOf, 20) });
  // The dead: assistance still paid after the month of death (R10), or stopped at its end (no finding).
  deaths.forEach((d, i) => {
    if (i % 3 === 0) aid(d, '城乡低保');
    if (i % 3 === 1) {
      const endOfMonth = monthsBefore(`${d.died.slice(0, 8)}01`, -1);
      aid(d, '特困供养', { ended: daysBefore(endOfMonth, 1) });
    }
    // Terminated by now, but only months after the death: paid in between (R10 all the same).
    if (i % 6 === 2) {
      const late = monthsBefore(`${d.died.slice(0, 8)}01`, -3);
      if (late <= asOf) aid(d, '城乡低保', { active: false, ended: daysBefore(late, 1) });
    }
  });
  const safetyNet = (id: string) =>
    (aidOf.get(id) ?? []).some(
      (a) => a.aid !== '临时救助' && a.active && (a.ended === null || a.ended >= asOf),
    );

  // ---- insurance rows (all of them, so R03 and R10 can be judged) ---------------------------------
  const insurance: InsuranceRecord[] = [];
  const insuranceNames = new Map<string, string>();
  const r03Gap = new Set<string>();
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
    if (gap) r03Gap.add(p.id);
    const subsidy = gap ? '' : entitled;
    const row = (
      scheme: InsuranceRecord['scheme'],
      y: number,
      status: InsuranceRecord['status'],
      dirtyId = false,
    ) => insurance.push({ ...named(p), scheme, year: y, status, subsidy, dirtyId });
    if (c === 'previous_year_only' || (c !== 'none' && rng.chance(0.9)))
      row('城乡居民', year - 1, '正常参保');
    if (c === 'active_resident') row('城乡居民', year, '正常参保');
    else if (c === 'active_employee') row('职工', year, '正常参保');
    else if (c === 'active_dirty_id') row('城乡居民', year, '正常参保', true);
    else if (c === 'suspended') row('城乡居民', year, '暂停');
    else if (c === 'terminated') row('城乡居民', year, '终止');
  }
  for (const o of outsiders) {
    const gap = safetyNet(o.id) && rng.chance(0.4);
    insurance.push({
      ...named(o),
      scheme: '城乡居民',
      year,
      status: '正常参保',
      subsidy: gap ? '' : safetyNet(o.id) ? '低保对象' : '',
      dirtyId: false,
    });
  }
  // A 莊 enrolled as 庄 (simplified form): the same name, no R13 finding.
  const zhuang = onRoster.find(
    (p) => p.name.startsWith('莊') && county.insurance.get(p.id) === 'active_resident',
  );
  if (zhuang) insuranceNames.set(zhuang.id, `庄${zhuang.name.slice(1)}`);

  // ---- housing, water, disasters (household feeds keyed by the head's ID) ------------------------
  const housing: HousingRecord[] = [];
  const water: WaterRecord[] = [];
  const disasters: DisasterRecord[] = [];
  intact.forEach((h, i) => {
    if (i % 6 === 1) {
      const grade = rng.weighted({ A: 35, B: 30, C: 18, D: 17 });
      const status =
        grade === 'C' || grade === 'D' ? rng.pick(['未改造', '改造中', '已竣工'] as const) : null;
      housing.push({ head: named(head(h)), grade, status, assessed: daysBefore(asOf, rng.int(100, 900)) });
    }
    if (i % 8 === 2) {
      const safe = !rng.chance(0.3);
      water.push({
        head: named(head(h)),
        village: h.village,
        safe,
        problem: safe ? null : rng.pick(['水量不足', '水质不达标', '取水不便']),
      });
    }
    if (i % 15 === 3) {
      // 0,1: recent and heavy; 2: recent, light; 3: heavy but 8 months ago; 4: exactly the threshold
      const kind = disasters.length % 5;
      disasters.push({
        head: named(head(h)),
        type: rng.pick(['洪涝', '风雹', '地质灾害', '干旱']),
        hit: kind === 3 ? daysBefore(asOf, rng.int(200, 300)) : daysBefore(asOf, rng.int(5, 150)),
        loss: kind === 2 ? rng.int(800, 4000) : kind === 4 ? 5000 : rng.int(6000, 60000),
      });
    }
  });
  for (let i = 0; i < 3; i++) {
    const o = named(outsider());
    housing.push({ head: o, grade: 'D', status: '未改造', assessed: daysBefore(asOf, 300) });
    water.push({ head: o, village: '新村', safe: false, problem: '水量不足' });
    disasters.push({ head: o, type: '洪涝', hit: daysBefore(asOf, 30), loss: 20000 });
  }

  // ---- employment and training ------------------------------------------------------------------
  const employment: EmploymentRecord[] = [];
  const since12 = monthsBefore(asOf, 12);
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

  // ---- medical settlements -------------------------------------------------------------------------
  const settlements: SettlementRecord[] = [];
  let sid = 0;
  const settle = (p: Named, settled: string, outOfPocket: number) =>
    settlements.push({
      ...p,
      sid: `JS${year}${String(++sid).padStart(7, '0')}`,
      settled,
      total: Math.round(outOfPocket * 2.8),
      outOfPocket,
    });
  for (const p of onRoster)
    if (rng.chance(0.04)) settle(named(p), daysBefore(asOf, rng.int(5, 340)), rng.int(200, 4000));
  // Heavy costs: outsiders above ¥10,000 (R04), exactly ¥10,000 (not above), heavy but 13 months ago.
  for (let i = 0; i < 4; i++) {
    const o = named(outsider());
    settle(o, daysBefore(asOf, rng.int(20, 120)), rng.int(6000, 9000));
    settle(o, daysBefore(asOf, rng.int(130, 300)), rng.int(4500, 9000));
  }
  const exact = named(outsider());
  settle(exact, daysBefore(asOf, 50), 6000);
  settle(exact, daysBefore(asOf, 90), 4000);
  settle(named(outsider()), daysBefore(asOf, 400), 30000);
  // Focus people with heavy costs: alleviated (judged against half the household's income), monitored (no R04).
  const alleviated = intact.filter((h) => h.type === 'alleviated');
  for (const h of alleviated.slice(0, 3)) settle(named(head(h)), daysBefore(asOf, 60), 40000);
  for (const h of monitoredHouseholds.slice(0, 2)) settle(named(head(h)), daysBefore(asOf, 60), 40000);

  // ---- the rest of the county: insured, sometimes treated, never a finding by construction ----------
  for (let i = 0; i < residents; i++) {
    const sex = rng.chance(0.5) ? 'M' : 'F';
    const birth = randomBirth(rng, year - rng.int(0, 85), ymdOf(asOf));
    const r = { id: makeIdNumber(COUNTY.code, birth, sex, rng, taken), name: personName(rng) };
    if (rng.chance(0.9))
      insurance.push({
        ...r,
        scheme: '城乡居民',
        year: year - 1,
        status: '正常参保',
        subsidy: '',
        dirtyId: false,
      });
    insurance.push({
      ...r,
      scheme: rng.chance(0.9) ? '城乡居民' : '职工',
      year,
      status: '正常参保',
      subsidy: '',
      dirtyId: false,
    });
    // one treatment of at most ¥4,000: never above R04's threshold for someone outside the roster
    if (rng.chance(0.05)) settle(r, daysBefore(asOf, rng.int(5, 340)), rng.int(100, 4000));
  }

  // ---- identity traps for R13 --------------------------------------------------------------------
  const wrongSexOnRoster = new Set<string>();
  const sexVictim = onRoster.find((p) => p.relation === '配偶' && alive(p.id));
  if (sexVictim) wrongSexOnRoster.add(sexVictim.id);
  const rollNames = new Map<string, string>();
  const renamed = kids.find((k) => rollCase(k) === 'enrolled' && !severe.has(k.id));
  if (renamed)
    rollNames.set(renamed.id, `${renamed.name.slice(0, 1)}${renamed.name.endsWith('星') ? '月' : '星'}`);

  // ---- truth -----------------------------------------------------------------------------------------
  const truth: Services['truth'] = {
    R03: [],
    R04: [],
    R05: [],
    R06: [],
    R07: [],
    R08: [],
    R09: [],
    R10: [],
    R11: [],
    R12: [],
    R13: [],
  };
  const rosterIds = new Set(onRoster.map((p) => p.id));
  const householdOfId = new Map(onRoster.map((p) => [p.id, p.household]));
  const yearNow = year;
  truth.R03 = sorted(
    insurance
      .filter(
        (r) => r.year === yearNow && r.scheme === '城乡居民' && r.status === '正常参保' && r.subsidy === '',
      )
      .filter((r) => householdOfId.get(r.id)?.type === 'monitored' || safetyNet(r.id))
      .map((r) => r.id),
  );
  const oop = new Map<string, number>();
  for (const s of settlements)
    if (s.settled > since12 && s.settled <= asOf) oop.set(s.id, (oop.get(s.id) ?? 0) + s.outOfPocket);
  truth.R04 = sorted(
    [...oop]
      .filter(([id, total]) => {
        const h = householdOfId.get(id);
        if (h?.type === 'monitored') return false;
        const members = h ? loaded(h).length : 0;
        const threshold = h ? 0.5 * income.get(h.id)! * members : 10_000;
        return total > threshold;
      })
      .map(([id]) => id),
  );
  truth.R05 = sorted(
    monitoredHouseholds
      .filter((h) => !loaded(h).some(ableWorker) && !loaded(h).some((m) => safetyNet(m.id)))
      .map((h) => h.id),
  );
  truth.R06 = sorted(
    assistance
      .filter((a) => a.aid !== '临时救助' && a.active && (a.ended === null || a.ended >= asOf))
      .filter((a) => !rosterIds.has(a.id) && !(a.headId && rosterIds.has(a.headId)))
      .map((a) => a.id),
  );
  const kidIds = new Set(kids.map((k) => k.id));
  const placed = new Set([
    'enrolled',
    'enrolled_dirty_id',
    'transferred_then_enrolled',
    'home_schooled',
    'home_schooled_dirty_id',
  ]);
  truth.R07 = sorted(
    disability
      .filter((d) => d.valid && kidIds.has(d.id) && !placed.has(county.roll.get(d.id) ?? '') && alive(d.id))
      .map((d) => d.id),
  );
  const householdOfHead = (headId: string) => householdOfId.get(headId);
  truth.R08 = sorted(
    housing
      .filter((x) => (x.grade === 'C' || x.grade === 'D') && x.status !== '已竣工')
      .flatMap((x) => householdOfHead(x.head.id)?.id ?? []),
  );
  truth.R09 = sorted(water.filter((x) => !x.safe).flatMap((x) => householdOfHead(x.head.id)?.id ?? []));
  const since6 = monthsBefore(asOf, 6);
  truth.R12 = sorted(
    disasters
      .filter((x) => x.hit > since6 && x.hit <= asOf && x.loss > 5000)
      .flatMap((x) => householdOfHead(x.head.id)?.id ?? []),
  );
  const dead = new Set(deadOn.keys());
  const deadInsurance = insurance.filter((r) => dead.has(r.id));
  for (const d of deaths) {
    if (rosterIds.has(d.id)) truth.R10.push(`${d.id}:roster`);
    const nextMonth = monthsBefore(`${d.died.slice(0, 8)}01`, -1);
    const paidAfter = (a: AssistanceRecord) =>
      (a.active && a.ended === null) || (a.ended !== null && a.ended >= nextMonth);
    if ((aidOf.get(d.id) ?? []).some(paidAfter)) truth.R10.push(`${d.id}:assistance`);
    const enrolled = deadInsurance.filter((r) => r.id === d.id);
    if (enrolled.some((r) => r.status === '正常参保' && r.year > Number(d.died.slice(0, 4))))
      truth.R10.push(`${d.id}:insurance`);
  }
  truth.R10.sort();
  const jobsOf = new Map<string, EmploymentRecord[]>();
  for (const e of employment) jobsOf.set(e.id, [...(jobsOf.get(e.id) ?? []), e]);
  const workedRecently = (id: string) =>
    (jobsOf.get(id) ?? []).some(
      (e) =>
        (e.employed && e.registered > since12 && e.registered <= asOf) ||
        (e.trainingEnded !== null && e.trainingEnded > since12 && e.trainingEnded <= asOf),
    );
  truth.R11 = sorted(
    onRoster
      .filter(
        (p) => p.household.type === 'monitored' && ageAt(p.birth, asOf) >= 16 && ageAt(p.birth, asOf) <= 60,
      )
      .filter((p) => ableWorker(p) && !workedRecently(p.id))
      .map((p) => p.id),
  );
  // R13, as department|kind|id-or-name: rejected IDs (the generator's broken rows), renamed, wrong sex.
  const dep = { roster: '乡村振兴局', student_roll: '教育局' } as const;
  truth.R13 = sorted([
    ...county.brokenRosterRows.map((b) => `${dep.roster}|record|${b.person.name}`),
    ...county.persons
      .filter((p) => rollCase(p) === 'sci_notation_only')
      .map((p) => `${dep.student_roll}|record|${p.name}`),
    ...[...rollNames.keys()].map((id) => `${dep.student_roll}|person|${id}`),
    ...[...wrongSexOnRoster].map((id) => `${dep.roster}|person|${id}`),
  ]);

  return {
    labor,
    income,
    wrongSexOnRoster,
    rollNames,
    insuranceNames,
    outsiders,
    insurance,
    assistance,
    housing,
    water,
    employment,
    disability,
    deaths,
    disasters,
    settlements,
    truth,
  };
}

/** The compulsory-education birth window of the county's school year (DOMAIN §6 R01/R07). */
function schoolWindow(county: County) {
  const y = county.schoolYear;
  return (birth: string) => birth > `${y - 16}0901` && birth <= `${y - 6}0831`;
}
