import { idCheckChar } from '../normalize/id-number.ts';
import type { Rng } from './random.ts';

const SURNAMES = [
  '王',
  '李',
  '张',
  '刘',
  '陈',
  '杨',
  '黄',
  '赵',
  '吴',
  '周',
  '罗',
  '龙',
  '吴',
  '杨',
  '莊',
  '欧阳',
];
const GIVEN = [
  '伟',
  '芳',
  '娜',
  '敏',
  '静',
  '丽',
  '强',
  '磊',
  '军',
  '洋',
  '勇',
  '艳',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '秀',
  '霞',
  '平',
  '刚',
  '桂',
  '英',
  '华',
  '文',
  '玉',
  '兰',
  '红',
  '金',
  '春',
];

export function personName(rng: Rng): string {
  const given = rng.chance(0.7) ? rng.pick(GIVEN) + rng.pick(GIVEN) : rng.pick(GIVEN);
  return rng.pick(SURNAMES) + given;
}

/** A valid 18-character ID: region, birth date (YYYYMMDD), sequence with the sex parity, check character. */
export function makeIdNumber(
  region: string,
  birth: string,
  sex: 'M' | 'F',
  rng: Rng,
  taken: Set<string>,
): string {
  for (let attempt = 0; ; attempt++) {
    if (attempt > 10_000) throw new Error(`no free ID sequence left for ${region} born ${birth}`);
    let seq = rng.int(0, 999);
    if ((seq % 2 === 1) !== (sex === 'M')) seq = (seq + 1) % 1000;
    const first17 = `${region}${birth}${String(seq).padStart(3, '0')}`;
    const id = first17 + idCheckChar(first17);
    if (!taken.has(id)) {
      taken.add(id);
      return id;
    }
  }
}

/** The dirty forms of DOMAIN §5.1 that a normalizer must recover to the same ID. */
export function dirtyId(id: string, rng: Rng): string {
  const forms = [
    () => id.toLowerCase(), // lowercase x (only visible when the ID ends in X)
    () => `'${id}`, // Excel's text marker
    () => `${id.slice(0, 6)} ${id.slice(6, 14)} ${id.slice(14)}`, // spaces inside
    () => `\t${id} `, // tab and trailing space
    () => id.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d))), // full-width digits
    () => `${id.slice(0, 9)}\u3000${id.slice(9)}`, // ideographic space
  ];
  return rng.pick(forms)();
}

/** What Excel shows for an 18-digit number stored as a number: the digits are gone. */
export function sciNotation(id: string): string {
  return `${id[0]}.${id.slice(1, 6).replace(/0+$/, '')}E+17`;
}

/** YYYYMMDD of a random day in a year, never after `latest` (YYYYMMDD): nobody on a roll is born tomorrow. */
export function randomBirth(rng: Rng, year: number, latest: string): string {
  const month = rng.int(1, 12);
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const birth = `${year}${String(month).padStart(2, '0')}${String(rng.int(1, days)).padStart(2, '0')}`;
  // Not clamped to `latest`: every later draw would share that one day, and a day has only 500 sequence
  // numbers per sex (a 1M-resident county ran out and looped forever). Draw again a year earlier.
  return birth > latest ? randomBirth(rng, year - 1, latest) : birth;
}
