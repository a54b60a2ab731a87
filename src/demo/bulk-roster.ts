/**
 * A roster-shaped CSV of any size (~130 bytes/row), written as a stream: the input of the load benchmark and of
 * the crash-recovery tests. `changeEvery` n: every n-th row gets a different income (a 1/n-changed snapshot).
 */
import { createWriteStream } from 'node:fs';
import { csvLine } from '../delivery/csv.ts';
import { idCheckChar } from '../normalize/id-number.ts';
import { MONITORING_DETAILS, ROSTER_HEADER } from './roster-header.ts';

/** The roster's columns without the monitoring details, in the roster's order. */
export const BULK_ROSTER_HEADER = ROSTER_HEADER.filter((c) => !MONITORING_DETAILS.has(c));

/** Unique by construction: within a block of 100k rows (region, sequence) is unique; blocks differ by birth year. */
function idFor(i: number): string {
  const block = Math.floor(i / 100_000);
  const birth = `${1930 + block * 3}${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}`;
  const first17 = `5201${String(Math.floor(i / 1000) % 100).padStart(2, '0')}${birth}${String(i % 1000).padStart(3, '0')}`;
  return first17 + idCheckChar(first17);
}

/** A roster-shaped CSV (~140 bytes/row), written as a stream. `changeEvery`: alter every n-th row. */
export async function writeRoster(path: string, rows: number, changeEvery = 0): Promise<void> {
  const out = createWriteStream(path);
  out.write(csvLine(BULK_ROSTER_HEADER));
  for (let i = 0; i < rows; i++) {
    const id = idFor(i);
    const changed = changeEvery > 0 && i % changeEvery === 0;
    const line = csvLine([
      '示范县',
      `乡镇${i % 12}`,
      `村${i % 157}`,
      `H${Math.floor(i / 4)}`,
      `姓名${i % 9973}`,
      id,
      i % 2 ? '男' : '女',
      '户主',
      i % 3 ? '脱贫户' : '监测户',
      `2019-0${1 + (i % 9)}-1${i % 10}`,
      '普通劳动力',
      changed ? '99999.00' : `${8000 + (i % 5000)}.00`,
      `139${String(i).padStart(8, '0')}`,
    ]);
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
}
