/**
 * `npm run bench -- county [--residents N] [--persons N]` — a whole county through the engine, as an operator
 * runs it: the demo county of N residents (default 1,000,000; focus persons default a quarter of them) generated,
 * its twelve department files imported one command each, then the whole rule catalog matched. Prints per feed:
 * bytes, rows read, the command's wall time and the run's own (ledger), µs per row, MB/s, the command's peak RSS,
 * the import's phases, and — for the files PostgreSQL can read as they are (UTF-8 CSV/TSV with the header on the
 * first line) — `psql \copy` of the same file into a bare table of text columns, the physical limit, in the same
 * run. Then the totals against issue 22's targets (≤ 120 s for imports and match on this machine; ≤ 300 MiB for
 * any import). Measures; never asserts. Uses
 * BENCH_DATABASE_URL / TEST_DATABASE_URL / DATABASE_URL when set (psql must reach it), else an embedded server.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createDb, createPool } from '../src/warehouse/connect.ts';
import { dropWarehouse } from '../src/warehouse/drop-warehouse.ts';
import { phasesLine, timed, warnIfStale } from './support/command.ts';
import { BENCH_AS_OF, benchCounty, type FeedImport, importCounty } from './support/county.ts';
import { benchServer } from './support/server.ts';

const arg = (args: string[], name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

/** The first line of a file when it is UTF-8 without a BOM, else null (PostgreSQL cannot \copy it as it is). */
function firstUtf8Line(file: string): string | null {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const head = buf.subarray(0, n);
    if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return null;
    const end = head.indexOf(0x0a);
    const line = head.subarray(0, end < 0 ? n : end);
    return new TextDecoder('utf-8', { fatal: true }).decode(line).replace(/\r$/, '');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

export async function main(args: string[]): Promise<void> {
  warnIfStale();
  const residents = arg(args, '--residents', 1_000_000);
  const persons = arg(args, '--persons', Math.round(residents / 4));
  const dir = mkdtempSync(join(tmpdir(), 'ruralhub-bench-county-'));
  const { url, stop } = await benchServer(dir);
  const schema = `bench_county_${process.pid}`;
  const db = createDb(createPool(url, schema));
  try {
    const county = await benchCounty({
      dir,
      url,
      schema,
      persons,
      residents: residents - persons,
      logLevel: 'info',
    });
    console.log(
      `generated ${persons} focus persons among ${residents} residents in ${county.generatedS.toFixed(0)} s`,
    );
    const psql = (...c: string[]) =>
      timed('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...c.flatMap((x) => ['-c', x])]);
    // The physical limit per file: COPY of its bytes into a bare table of as many text columns, no index.
    const copyS = new Map<string, number>();
    for (const { feed, file } of county.files) {
      const header = /\.(csv|tsv|txt)$/i.test(file) ? firstUtf8Line(file) : null;
      if (header === null) continue;
      const delimiter = header.includes('\t') ? '\t' : ',';
      const width = header.split(delimiter).length;
      const bare = `bench_copy_${process.pid}`;
      const cols = Array.from({ length: width }, (_, i) => `c${i + 1} text`).join(', ');
      try {
        psql(`CREATE UNLOGGED TABLE ${bare} (${cols})`);
        const d = delimiter === '\t' ? "E'\\t'" : "','";
        const r = psql(`\\copy ${bare} FROM '${file}' WITH (FORMAT csv, HEADER true, DELIMITER ${d})`);
        copyS.set(feed, r.s);
      } catch {
        // ragged rows or a title line: not a file COPY reads as it is
      } finally {
        psql(`DROP TABLE IF EXISTS ${bare}`);
      }
    }
    const imports: FeedImport[] = importCounty(county, (i) =>
      console.log(
        `  import ${i.feed.padEnd(14)} ${(i.bytes / 2 ** 20).toFixed(1).padStart(6)} MiB  ${i.s.toFixed(1)} s  peak RSS ${i.rss.toFixed(0)} MiB`,
      ),
    );
    const ledger = new Map(
      (
        await sql<{ feed: string; rows: number; s: number }>`
          SELECT feed, rows_read::int AS rows, extract(epoch FROM finished_at - started_at)::float8 AS s
          FROM runs WHERE kind = 'import'`.execute(db)
      ).rows.map((r) => [r.feed, r]),
    );
    const match = county.cli('match', '--as-of', BENCH_AS_OF);

    console.log(
      '\nfeed              MiB       rows  wall s   run s  µs/row   MB/s  \\copy s  run/\\copy  RSS MiB  phases (ms)',
    );
    let wall = 0;
    let rows = 0;
    let bytes = 0;
    for (const i of imports) {
      const l = ledger.get(i.feed);
      const runS = l?.s ?? Number.NaN;
      const n = l?.rows ?? 0;
      wall += i.s;
      rows += n;
      bytes += i.bytes;
      const c = copyS.get(i.feed);
      const phases = phasesLine(`${i.stdout}\n${i.stderr}`);
      console.log(
        [
          i.feed.padEnd(14),
          (i.bytes / 2 ** 20).toFixed(1).padStart(6),
          String(n).padStart(10),
          i.s.toFixed(1).padStart(7),
          runS.toFixed(1).padStart(7),
          (n ? (runS * 1e6) / n : Number.NaN).toFixed(0).padStart(7),
          (i.bytes / 1e6 / runS).toFixed(1).padStart(6),
          (c === undefined ? 'n/a' : c.toFixed(2)).padStart(8),
          (c === undefined ? '' : (runS / c).toFixed(1)).padStart(9),
          i.rss.toFixed(0).padStart(7),
          phases ?? '',
        ].join('  '),
      );
    }
    console.log(
      `\nimports: ${wall.toFixed(0)} s for ${rows} rows, ${(bytes / 2 ** 20).toFixed(0)} MiB (${((wall * 1e6) / rows).toFixed(0)} µs/row, ${(bytes / 1e6 / wall).toFixed(1)} MB/s, start-up of each command included)`,
    );
    const peak = Math.max(...imports.map((i) => i.rss));
    console.log(`peak RSS of an import: ${peak.toFixed(0)} MiB (issue 22's target: ≤ 300 MiB)`);
    console.log(`match (whole catalog, first run): ${match.s.toFixed(1)} s`);
    console.log(`total: ${(wall + match.s).toFixed(0)} s (issue 22's target on this machine: ≤ 120 s)`);
    await dropWarehouse(db, schema);
  } finally {
    await db.destroy();
    await stop?.();
    rmSync(dir, { recursive: true, force: true });
  }
}
