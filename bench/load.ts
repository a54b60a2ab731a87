/**
 * `npm run bench -- load [--rows N]` — the loading engine against PostgreSQL's own COPY, same machine, same run:
 *   (a) psql \copy of the file into a bare table (no indexes): the physical limit
 *   (b) ruralhub import of the file into an empty warehouse (parse, normalize, dedup, publish with history)
 *   (c) the same file again (no-op by content hash)
 *   (d) a copy with 1% of rows changed (only changed rows written) — with WAL bytes for (b) and (d)
 * Prints seconds, rows/s, ratios to (a) and the import process's peak RSS. Measures; never asserts.
 * Uses TEST_DATABASE_URL / DATABASE_URL when set (psql must reach it), else an embedded server.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { csvLine } from '../src/delivery/csv.ts';
import { idCheckChar } from '../src/normalize/id-number.ts';
import { startEmbedded } from '../src/warehouse/embedded.ts';

const HEADER = [
  '县',
  '乡镇',
  '村',
  '户编号',
  '姓名',
  '证件号码',
  '性别',
  '与户主关系',
  '户类型',
  '识别时间',
  '劳动技能',
  '家庭年人均纯收入',
  '联系电话',
];

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
  out.write(csvLine(HEADER));
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

function timeIt(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const t = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  const s = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  return { s, stdout: r.stdout, stderr: r.stderr };
}

export async function main(args: string[]): Promise<void> {
  const rowsArg = args.indexOf('--rows');
  const rows = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 2_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'ruralhub-bench-load-'));
  let url = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  let stop: (() => Promise<void>) | undefined;
  if (!url) {
    // the server runs as its own user when we are root: it must be able to reach the data folder
    chmodSync(dir, 0o755);
    const srv = await startEmbedded({ dataDir: join(dir, 'pg'), ephemeral: true });
    url = srv.url;
    stop = srv.stop;
  }
  try {
    const file = join(dir, 'roster.csv');
    const changedFile = join(dir, 'roster-1pct.csv');
    const t = performance.now();
    await writeRoster(file, rows);
    await writeRoster(changedFile, rows, 100);
    const { size } = statSync(file);
    console.log(
      `generated ${rows} rows (${(size / rows).toFixed(0)} B/row, ${(size / 2 ** 20).toFixed(0)} MiB) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );

    const psql = (q: string) => timeIt('psql', [url!, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', q]);
    const cols = HEADER.map((_, i) => `c${i + 1} text`).join(', ');
    psql(`DROP TABLE IF EXISTS bench_bare; CREATE TABLE bench_bare (${cols})`);
    const a = psql(`\\copy bench_bare FROM '${file}' WITH (FORMAT csv, HEADER true)`).s;
    psql('DROP TABLE bench_bare');
    console.log(`(a) psql \\copy into a bare table: ${a.toFixed(2)} s (${Math.round(rows / a)} rows/s)`);

    const schema = `bench_${process.pid}`;
    const cfg = join(dir, 'bench.yaml');
    writeFileSync(
      cfg,
      `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_BENCH_URL, schema: ${schema} }\nfeeds: { roster: { max_shrink: 1 } }\n`,
    );
    const bin = resolve(import.meta.dirname, '../bin/ruralhub.js');
    const env = { ...process.env, RH_BENCH_URL: url, RURALHUB_LOG_LEVEL: 'warn' };
    const run = (label: string, file: string) => {
      const lsn0 = walLsn(url!);
      const r = timeIt(
        '/usr/bin/time',
        [
          '-f',
          '%M',
          process.execPath,
          bin,
          '--config',
          cfg,
          'import',
          'roster',
          '--file',
          file,
          '--as-of',
          '2026-11-24',
        ],
        env,
      );
      const wal = walBytes(url!, lsn0);
      const rss = Number(r.stderr.trim().split('\n').at(-1)) / 1024;
      console.log(
        `${label}: ${r.s.toFixed(2)} s (${(r.s / a).toFixed(2)}× (a)), WAL ${(wal / 2 ** 20).toFixed(0)} MiB, peak RSS ${rss.toFixed(0)} MiB`,
      );
      return { s: r.s, wal };
    };
    timeIt(process.execPath, [bin, '--config', cfg, 'migrate'], env);
    const b = run('(b) ruralhub import into an empty warehouse', file);
    run('(c) the same file again', file);
    const d = run('(d) a copy with 1% of rows changed', changedFile);
    console.log(`WAL of (d) / WAL of (b): ${(d.wal / b.wal).toFixed(3)}`);
    psql(`DROP SCHEMA ${schema} CASCADE`);
  } finally {
    await stop?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

function walLsn(url: string): string {
  return timeIt('psql', [url, '-X', '-At', '-c', 'SELECT pg_current_wal_lsn()']).stdout.trim();
}

function walBytes(url: string, since: string): number {
  return Number(
    timeIt('psql', [
      url,
      '-X',
      '-At',
      '-c',
      `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '${since}')`,
    ]).stdout.trim(),
  );
}
