/**
 * `npm run bench -- read [--rows N] [--xlsx-rows N]` — how fast department files are read, against PostgreSQL's
 * own COPY of the same bytes, same machine, same run. Each case runs in a process of its own, so its peak
 * RSS is its own:
 *   (a) psql \copy of the UTF-8 CSV into a bare table: the physical limit
 *   (b) UTF-8 CSV end to end into a staging table (the loader's bulk path: COPY parses, rows/s into staging)
 *   (c) GB18030 CSV the same way (transcoded to UTF-8 in Node as it streams, connectors/gb18030.ts)
 *   (d) UTF-8 CSV through the record reader (csv-parse; the fallback for files COPY rejects), parse only
 *   (e) .xlsx with shared strings (as Excel, WPS and openpyxl write it), parse only
 *   (f) .xlsx with inline strings (exceljs's streaming writer), parse only
 *   (g) .xls (BIFF8, SheetJS's writer, 65,536 rows a sheet), parse only — held whole in memory by SheetJS
 * Every workbook case also checks that the cells read are the CSV's, byte for byte (a digest of both).
 * Prints rows/s, ratios to (a) and peak RSS. Measures; never asserts.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';
import { csvConnector } from '../connectors/csv/csv-connector.ts';
import { connectorFor } from '../connectors/registry.ts';
import { BULK_ROSTER_HEADER as HEADER, writeRoster } from '../src/demo/bulk-roster.ts';
import { LineHasher } from '../src/load/line-hasher.ts';
import { copyBulk, createRawTable, stagingNames } from '../src/load/stage.ts';
import { createDb, createPool } from '../src/warehouse/connect.ts';
import { benchServer } from './support/server.ts';
import { csvRows, writeXls, writeXlsx } from './support/workbooks.ts';

const arg = (args: string[], name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

/** One measured case, in this (child) process: prints a JSON line {rows, s, rss}. */
async function child(kind: string, file: string, url: string): Promise<void> {
  // Sampled, not getrusage's maxRSS: on Linux that survives exec and would report the parent's peak.
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const t = performance.now();
  let rows = 0;
  const digest = createHash('sha256');
  if (kind === 'bulk') {
    const bulk = await csvConnector.bulk!({ path: file }, {});
    if (!bulk) throw new Error('the bulk path refused the file');
    const schema = `bench_read_${process.pid}`;
    const pool = createPool(url, schema);
    const db = createDb(pool);
    await pool.query(`CREATE SCHEMA ${schema}`);
    const { raw } = stagingNames(1);
    await createRawTable(db, raw, bulk.columns.length);
    const hasher = await LineHasher.create('bench', false);
    rows = await copyBulk(db, pool, raw, bulk, {
      set: null,
      counts: { records: 0, recognized: 0, again: 0 },
      hasher,
      pass: null,
    });
    await hasher.close();
    await pool.query(`DROP SCHEMA ${schema} CASCADE`);
    await db.destroy();
  } else {
    const connector = kind === 'csv' ? csvConnector : connectorFor(file);
    // every sheet with the header (a large .xls has several: 65,536 rows a sheet)
    const isHeader = (cells: readonly string[]) => cells[0] === HEADER[0];
    for await (const m of connector.read({ path: file }, kind === 'csv' ? {} : { isHeader })) {
      if (m.type !== 'record') continue;
      rows++;
      if (kind !== 'csv') digest.update(`${m.cells.map((c) => c ?? '').join(',')}\n`);
    }
  }
  const s = (performance.now() - t) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  process.stdout.write(`${JSON.stringify({ rows, s, rss: peak, digest: digest.digest('hex') })}\n`);
}

/** The digest a workbook reader must reproduce: the CSV's data rows, as the child hashes the cells it read. */
async function csvDigest(csv: string, rows: number): Promise<string> {
  const digest = createHash('sha256');
  let first = true;
  for await (const cells of csvRows(csv, rows)) {
    if (first) first = false;
    else digest.update(`${cells.join(',')}\n`);
  }
  return digest.digest('hex');
}

export async function main(args: string[]): Promise<void> {
  if (args[0] === '--child') return child(args[1]!, args[2]!, args[3]!);
  const rows = arg(args, '--rows', 1_000_000);
  const xlsxRows = arg(args, '--xlsx-rows', 250_000);
  // Below the .xls reader's 16 MiB bound (SheetJS also writes BIFF8 slowly: ~50 s for 45k rows here)
  const xlsRows = arg(args, '--xls-rows', 45_000);
  const dir = mkdtempSync(join(tmpdir(), 'ruralhub-bench-read-'));
  const { url, stop } = await benchServer(dir);
  try {
    const utf8 = join(dir, 'roster.csv');
    const gb = join(dir, 'roster-gb18030.csv');
    const xlsx = join(dir, 'roster.xlsx');
    const inline = join(dir, 'roster-inline.xlsx');
    const xls = join(dir, 'roster.xls');
    let t = performance.now();
    await writeRoster(utf8, rows);
    await pipeline(
      createReadStream(utf8),
      iconv.decodeStream('utf8'),
      iconv.encodeStream('gb18030'),
      createWriteStream(gb),
    );
    await writeXlsx(xlsx, utf8, xlsxRows, true);
    await writeXlsx(inline, utf8, xlsxRows, false);
    await writeXls(xls, utf8, xlsRows);
    const mib = (f: string) => `${(statSync(f).size / 2 ** 20).toFixed(0)} MiB`;
    console.log(
      `generated ${rows} rows: UTF-8 ${mib(utf8)}, GB18030 ${mib(gb)}; xlsx (${xlsxRows} rows) ${mib(xlsx)} shared strings, ` +
        `${mib(inline)} inline; xls (${xlsRows} rows) ${mib(xls)}; in ${((performance.now() - t) / 1000).toFixed(0)} s`,
    );
    const expected: Record<string, string> = {
      [xlsx]: await csvDigest(utf8, xlsxRows),
      [inline]: await csvDigest(utf8, xlsxRows),
      [xls]: await csvDigest(utf8, xlsRows),
    };

    const cols = HEADER.map((_, i) => `c${i + 1} text`).join(', ');
    const psql = (q: string) => {
      const r = spawnSync('psql', [url!, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', q], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
    };
    psql(`DROP TABLE IF EXISTS bench_bare; CREATE TABLE bench_bare (${cols})`);
    t = performance.now();
    psql(`\\copy bench_bare FROM '${utf8}' WITH (FORMAT csv, HEADER true)`);
    const a = (performance.now() - t) / 1000;
    psql('DROP TABLE bench_bare');
    console.log(
      `(a) psql \\copy, UTF-8 CSV into a bare table     ${a.toFixed(2)} s  ${Math.round(rows / a)} rows/s`,
    );

    const self = fileURLToPath(new URL('./run.ts', import.meta.url));
    const cases: [string, string, string][] = [
      ['(b) UTF-8 CSV into staging (bulk COPY path)', 'bulk', utf8],
      ['(c) GB18030 CSV into staging (bulk COPY path)', 'bulk', gb],
      ['(d) UTF-8 CSV, record reader (csv-parse), parse only', 'csv', utf8],
      ['(e) xlsx, shared strings, parse only', 'xlsx', xlsx],
      ['(f) xlsx, inline strings, parse only', 'xlsx', inline],
      ['(g) xls (BIFF8), parse only', 'xls', xls],
    ];
    for (const [label, kind, file] of cases) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', self, 'read', '--child', kind, file, url], {
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      });
      if (r.status !== 0) {
        console.log(`${label}: failed: ${r.stderr.split('\n').slice(0, 3).join(' ')}`);
        continue;
      }
      const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
        rows: number;
        s: number;
        rss: number;
        digest: string;
      };
      const exact = expected[file] ? (expected[file] === m.digest ? '  text exact' : '  TEXT DIFFERS') : '';
      const rate = m.rows / m.s;
      console.log(
        `${label.padEnd(52)} ${m.s.toFixed(2)} s  ${Math.round(rate)} rows/s  ${(rate / (rows / a)).toFixed(2)}× (a)  peak RSS ${(m.rss / 2 ** 20).toFixed(0)} MiB  (${m.rows} rows)${exact}`,
      );
    }
  } finally {
    await stop?.();
    rmSync(dir, { recursive: true, force: true });
  }
}
