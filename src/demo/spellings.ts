/** How county clerks spell a value: the forms a reader must take as the same date or amount, the footer lines. */
import type { Rng } from './random.ts';

const dash = (d: string) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;

/** The same date (YYYYMMDD) in one of the forms of DOMAIN §5.3. */
export function dateForms(rng: Rng, ymd: string): string {
  const [y, m, d] = [ymd.slice(0, 4), Number(ymd.slice(4, 6)), Number(ymd.slice(6, 8))];
  const serial = Math.round((Date.UTC(Number(y), m - 1, d) - Date.UTC(1899, 11, 30)) / 86_400_000);
  return rng.pick([
    dash(ymd),
    `${y}/${m}/${d}`,
    ymd,
    `${y}.${ymd.slice(4, 6)}.${ymd.slice(6)}`,
    `${y}年${m}月${d}日`,
    String(serial),
  ]);
}

/** The same amount of yuan in one of the forms departments write. */
export function moneyForms(rng: Rng, yuan: number): string {
  return rng.pick([
    yuan.toFixed(2),
    `¥${yuan.toLocaleString('en-US', { minimumFractionDigits: 2 })}`,
    `${yuan}元`,
  ]);
}

/**
 * The footer lines a county clerk writes under a table: who made and checked it, a phone number, notes. The
 * first two are in footerKind's vocabulary in the forms departments use (both labels in one cell, two spaces
 * apart; a label and its value in one cell); `note` is the feed's own 填表说明.
 */
export function footerLines(note: string): string[][] {
  return [['制表人：张三  审核人：李四'], ['联系电话：0851-86821234'], [`填表说明：${note}`]];
}
