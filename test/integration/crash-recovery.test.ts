/**
 * kill -9 of an import at several points, then a re-run: the warehouse holds exactly the rows of one complete
 * load, the dead run is marked failed, no staging table is left behind, and the ledger equation holds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRoster } from '../../src/demo/bulk-roster.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { BIN } from '../support/cli.ts';
import { tempDir } from '../support/files.ts';
import { expectBalancedLedger } from '../support/loads.ts';
import { databaseUrl, importRuns, testWarehouse } from '../support/warehouse.ts';

const ROWS = 60_000;
const dir = tempDir('ruralhub-crash-');
let wh: Warehouse;
let config: string;
const files = { first: join(dir, 'roster.csv'), second: join(dir, 'roster-changed.csv') };

const stderrOf = new WeakMap<ChildProcess, string[]>();
function start(file: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      BIN,
      '--config',
      config,
      'import',
      'roster',
      '--file',
      file,
      '--as-of',
      '2026-11-24',
      '--confirm-shrink',
    ],
    {
      env: { ...process.env, RH_CRASH_URL: databaseUrl(), RURALHUB_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const lines: string[] = [];
  stderrOf.set(child, lines);
  child.stderr?.on('data', (c: Buffer) => lines.push(c.toString()));
  return child;
}
const exited = (p: ChildProcess) =>
  new Promise<number | null>((r) =>
    p.exitCode !== null || p.signalCode ? r(p.exitCode) : p.once('exit', (c) => r(c)),
  );

/** Kills the import with SIGKILL as soon as its session runs a statement matching `phase`. */
async function killDuring(file: string, phase: RegExp): Promise<void> {
  const p = start(file);
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      if (Date.now() > deadline) throw new Error(`never saw ${phase} in the import's session`);
      if (p.exitCode !== null) {
        throw new Error(
          `the import ended (${p.exitCode}) before ${phase} was seen: ${stderrOf.get(p)?.join('')}`,
        );
      }
      const { rows } = await sql<{ query: string }>`
        SELECT query FROM pg_stat_activity
        WHERE application_name = ${`ruralhub:${p.pid}`} AND state = 'active'`.execute(wh.db);
      if (rows.some((r) => phase.test(r.query))) break;
      await new Promise((r) => setTimeout(r, 15));
    }
  } finally {
    p.kill('SIGKILL');
    await exited(p);
  }
}

/** Runs an import to its end; retries while the killed session still holds the feed's lock (exit 75). */
async function importToEnd(file: string): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const p = start(file);
    const code = await exited(p);
    if (code === 0) return;
    if (code !== 75) throw new Error(`import failed with exit code ${code}: ${stderrOf.get(p)?.join('')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the feed lock was never released');
}

async function state() {
  const current = await sql<{ n: number; runs: number }>`
    SELECT count(*)::int AS n, count(DISTINCT run_id)::int AS runs FROM roster WHERE valid_to IS NULL`.execute(
    wh.db,
  );
  const staging = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = ${wh.schema} AND tablename LIKE 'stg\\_%'`.execute(
    wh.db,
  );
  return { current: current.rows[0]!, staging: staging.rows[0]!.n, runs: await importRuns(wh) };
}

beforeAll(async () => {
  wh = await testWarehouse('crash');
  config = join(dir, 'crash.yaml');
  writeFileSync(
    config,
    `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_CRASH_URL, schema: ${wh.schema} }\n`,
  );
  await writeRoster(files.first, ROWS);
  await writeRoster(files.second, ROWS, 10); // every 10th row changed
}, 120_000);
afterAll(async () => wh?.close());

describe('an import killed with SIGKILL', () => {
  it('during COPY leaves nothing; the re-run loads the whole file and marks the dead run failed', async () => {
    await killDuring(files.first, /^COPY /);
    expect((await state()).current.n).toBe(0);
    await importToEnd(files.first);
    const s = await state();
    expect(s.current).toEqual({ n: ROWS, runs: 1 });
    expect(s.staging).toBe(0);
    expect(s.runs.map((r) => r.status)).toEqual(['failed', 'succeeded']);
  }, 120_000);

  it('during publish leaves the previous load intact; the re-run publishes the new one whole', async () => {
    const before = await state();
    await killDuring(files.second, /INSERT INTO "roster"|UPDATE "roster"/);
    const mid = await state();
    expect(mid.current).toEqual(before.current); // the first load, untouched
    await importToEnd(files.second);
    const after = await state();
    expect(after.current.n).toBe(ROWS);
    // one tenth of the rows now carry the second load's version; history keeps the ended ones
    const versions = await sql<{ ended: number }>`
      SELECT count(*) FILTER (WHERE valid_to IS NOT NULL)::int AS ended FROM roster`.execute(wh.db);
    expect(versions.rows[0]!.ended).toBe(ROWS / 10);
    expect(after.staging).toBe(0);
    expect(after.runs.map((r) => r.status)).toEqual(['failed', 'succeeded', 'failed', 'succeeded']);
    // the ledger equation holds for every finished import
    const ledger = await wh.db
      .selectFrom('runs')
      .select(['rows_read', 'rows_loaded', 'rows_quarantined', 'exact_duplicates', 'conflicting_duplicates'])
      .where('status', '=', 'succeeded')
      .execute();
    for (const r of ledger) expectBalancedLedger(r);
  }, 120_000);
});
