/**
 * `npm run bench -- startup [--runs N] [--no-db]` — how long a command takes to start, against `node -e 0` (the
 * physical limit: starting Node itself) measured in the same run. Each case is a fresh `node bin/ruralhub.js …`
 * process, as a person or a cron job starts it; the cases take turns (round-robin), so a busy machine slows them
 * alike. Prints the best and the median wall time of each, and their excess over `node -e 0`.
 *   node -e 0                   the limit
 *   --help                      the whole command tree's help: every command registered, none run
 *   status --help               one command's help
 *   privacy rules               a command that runs, without config or database
 *   runs (warehouse)            a command reading the warehouse: config loaded and checked, connection opened,
 *                               migrations checked, one query — on a schema of its own (startup_bench_<pid>) in the
 *                               server of bench/support/server.ts, migrated first and dropped after, with what
 *                               migrating made beside it (--no-db: left out)
 * dist/ stale (sources edited since `npm run build`) means bin/ruralhub.js runs the sources through tsx: it is
 * said, and measured as it is. Measures; never asserts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { bundleIsFresh } from '../bin/source-stamp.js';
import { benchServer } from './support/server.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'ruralhub.js');

interface Case {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Exit codes that mean it ran as it should (status exits 1 when something is stale). */
  ok?: number[];
}

function once(c: Case): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, c.args, {
    cwd: ROOT,
    env: { ...process.env, ...c.env },
    encoding: 'utf8',
  });
  const ms = performance.now() - t;
  if (!(c.ok ?? [0]).includes(r.status ?? -1))
    throw new Error(`${c.name}: exit ${r.status}\n${r.stderr.slice(0, 2000)}`);
  return ms;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function main(args: string[]): Promise<void> {
  const i = args.indexOf('--runs');
  const runs = i >= 0 ? Number(args[i + 1]) : 10;
  if (!(runs >= 1)) throw new Error('--runs: expected a number ≥ 1');
  const withDb = !args.includes('--no-db');

  const fresh = bundleIsFresh();
  console.log(
    `node ${process.version}, ${runs} runs a case; bin/ruralhub.js runs ${
      fresh ? 'the bundle in dist/' : 'the SOURCES through tsx (dist/ is missing or stale: `npm run build`)'
    }`,
  );

  const cli = (...a: string[]) => [BIN, ...a];
  const cases: Case[] = [
    { name: 'node -e 0 (the limit)', args: ['-e', '0'] },
    { name: 'ruralhub --help', args: cli('--help') },
    { name: 'ruralhub status --help', args: cli('status', '--help') },
    { name: 'ruralhub privacy rules', args: cli('privacy', 'rules') },
  ];

  const dir = mkdtempSync(join(tmpdir(), 'rh-bench-startup-'));
  let cleanup = async () => {};
  try {
    if (withDb) {
      const server = await benchServer(dir);
      const schema = `startup_bench_${process.pid}`;
      const config = join(dir, 'county.yaml');
      writeFileSync(
        config,
        readFileSync(join(ROOT, 'config', 'demo-county.yaml'), 'utf8')
          .replace(/^ {2}url_env: .*$/m, '  url_env: RH_BENCH_STARTUP_URL')
          .replace(/^ {2}schema: .*$/m, `  schema: ${schema}`),
      );
      const env = { RH_BENCH_STARTUP_URL: server.url, RURALHUB_CONFIG: config };
      cleanup = async () => {
        const client = new pg.Client({ connectionString: server.url });
        await client.connect();
        // migration 0006 makes <schema>_reporting and, given CREATEROLE, the roles <schema>_department/_reader
        await client.query(`DROP SCHEMA IF EXISTS ${schema}, ${schema}_reporting CASCADE`);
        for (const role of [`${schema}_department`, `${schema}_reader`])
          if ((await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount)
            await client.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
        await client.end();
        await server.stop?.();
      };
      const t = performance.now();
      once({ name: 'migrate', args: cli('migrate'), env });
      console.log(`warehouse: schema ${schema} migrated in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      cases.push({ name: 'ruralhub runs (warehouse)', args: cli('runs'), env });
    }

    const times = cases.map(() => [] as number[]);
    once(cases[0]!); // warm the file cache before anything is counted
    for (let r = 0; r < runs; r++) for (const [k, c] of cases.entries()) times[k]!.push(once(c));

    const limit = median(times[0]!);
    const w = Math.max(...cases.map((c) => c.name.length));
    console.log(`\n${'case'.padEnd(w)}   best ms  median ms  median − limit`);
    cases.forEach((c, k) => {
      const best = Math.min(...times[k]!);
      const med = median(times[k]!);
      console.log(
        `${c.name.padEnd(w)}  ${best.toFixed(0).padStart(8)}  ${med.toFixed(0).padStart(9)}  ${
          k === 0 ? '' : `${(med - limit).toFixed(0).padStart(14)}`
        }`,
      );
    });
  } finally {
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}
