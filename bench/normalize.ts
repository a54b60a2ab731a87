/**
 * `npm run bench -- normalize [--rows N]` — the normalizers of DOMAIN §5, values per second, in TypeScript and
 * in their SQL twins on the same generated values, against a bare `count(column)` of the same table (the floor
 * of reading the values at all). Measures; never asserts. Uses TEST_DATABASE_URL / DATABASE_URL, else embedded.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { parseDate } from '../src/normalize/date.ts';
import { idCheckChar, normalizeIdNumber } from '../src/normalize/id-number.ts';
import { parseMoney } from '../src/normalize/money.ts';
import { nameKey, normalizeName } from '../src/normalize/name.ts';
import { createDb, createPool } from '../src/warehouse/connect.ts';
import { startEmbedded } from '../src/warehouse/embedded.ts';
import { migrate } from '../src/warehouse/migrate.ts';

function values(n: number) {
  const ids: string[] = [];
  const names: string[] = [];
  const dates: string[] = [];
  const money: string[] = [];
  for (let i = 0; i < n; i++) {
    const first17 = `520102${1950 + (i % 60)}0${1 + (i % 9)}1${i % 10}${String(i % 1000).padStart(3, '0')}`;
    const id = first17 + idCheckChar(first17);
    ids.push(i % 10 === 0 ? ` ${id.toLowerCase()} ` : i % 17 === 0 ? `'${id}` : id);
    names.push(i % 7 === 0 ? `莊 國${i % 100}` : `张三${i % 100}`);
    dates.push(
      i % 3 === 0 ? `2023年${1 + (i % 12)}月${1 + (i % 28)}日` : i % 3 === 1 ? '45047' : '2023-05-01',
    );
    money.push(i % 2 ? `¥${(i % 9000) + 1000},000.50` : `${i % 9000}元`);
  }
  return { ids, names, dates, money };
}

const rate = (n: number, ms: number) => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')}/s`;

export async function main(args: string[]): Promise<void> {
  const i = args.indexOf('--rows');
  const n = i >= 0 ? Number(args[i + 1]) : 500_000;
  const v = values(n);
  const ts = (label: string, f: () => void) => {
    f(); // a first pass for the JIT: an import normalizes millions of values, the steady state is what counts
    const t = performance.now();
    f();
    console.log(`TS  ${label.padEnd(22)} ${rate(n, performance.now() - t).padStart(14)}`);
  };
  ts('normalizeIdNumber', () => {
    for (const x of v.ids) normalizeIdNumber(x, { today: '2026-11-24' });
  });
  ts('normalizeName', () => {
    for (const x of v.names) normalizeName(x);
  });
  ts('nameKey', () => {
    for (const x of v.names) nameKey(x);
  });
  ts('parseDate', () => {
    for (const x of v.dates) parseDate(x);
  });
  ts('parseMoney', () => {
    for (const x of v.money) parseMoney(x);
  });

  const dir = mkdtempSync(join(tmpdir(), 'ruralhub-bench-norm-'));
  chmodSync(dir, 0o755); // the embedded server runs as its own user when we are root
  let url = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  let stop: (() => Promise<void>) | undefined;
  if (!url) {
    const srv = await startEmbedded({ dataDir: join(dir, 'pg'), ephemeral: true });
    url = srv.url;
    stop = srv.stop;
  }
  const schema = `bench_norm_${process.pid}`;
  const pool = createPool(url, schema);
  const db = createDb(pool);
  try {
    await migrate(db, schema);
    await sql`CREATE TABLE v AS SELECT * FROM unnest(${v.ids}::text[], ${v.names}::text[], ${v.dates}::text[],
      ${v.money}::text[]) AS t(id, name, d, m)`.execute(db);
    const time = async (label: string, expr: string) => {
      const t = performance.now();
      await sql`SELECT count(${sql.raw(expr)}) FROM v`.execute(db);
      const ms = performance.now() - t;
      console.log(`SQL ${label.padEnd(22)} ${rate(n, ms).padStart(14)}`);
      return ms;
    };
    const floor = await time('count(id) (floor)', 'id');
    for (const [label, expr] of [
      ['rh_id', "rh_id(id, '2026-11-24')"],
      ['rh_name', 'rh_name(name)'],
      ['rh_name_key', 'rh_name_key(name)'],
      ['rh_date', "rh_date(d, 'Asia/Shanghai')"],
      ['rh_money', 'rh_money(m)'],
    ] as const) {
      const ms = await time(label, expr);
      console.log(`    ${''.padEnd(22)} ${(ms / floor).toFixed(1).padStart(13)}× floor`);
    }
    await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(db);
  } finally {
    await db.destroy();
    await stop?.();
    rmSync(dir, { recursive: true, force: true });
  }
}
