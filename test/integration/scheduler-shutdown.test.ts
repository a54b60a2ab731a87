/**
 * SIGTERM to a scheduler in the middle of an import (a real process on a real PostgreSQL): with no grace the
 * load rolls back — none of it is visible — and the next scheduler recovers the dead run and completes the
 * slot; with grace the running load finishes — all of it is visible — before the process exits.
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
import { databaseUrl, testWarehouse } from '../support/warehouse.ts';

const dir = tempDir('ruralhub-sigterm-');
const ROWS = 300_000;
let wh: Warehouse;
let roster: string;

beforeAll(async () => {
  wh = await testWarehouse('sigterm');
  roster = join(dir, 'roster.csv');
  await writeRoster(roster, ROWS);
}, 120_000);
afterAll(async () => wh?.close());

function scheduler(grace: number): ChildProcess & { done: Promise<number | null> } {
  const file = join(dir, `grace-${grace}.yaml`);
  writeFileSync(
    file,
    `county: { name: 示范县, code: "520102" }
database: { url_env: RH_TEST_URL, schema: ${wh.schema} }
scheduler:
  grace_seconds: ${grace}
  jobs:
    roster-minutely: { kind: import, feed: roster, path: "${roster}", cron: "* * * * *" }
`,
  );
  const child = spawn(process.execPath, [BIN, '--config', file, 'scheduler', '--once'], {
    env: { ...process.env, DATABASE_URL: '', RH_TEST_URL: databaseUrl(), RURALHUB_LOG_LEVEL: 'error' },
    stdio: 'ignore',
  });
  return Object.assign(child, {
    done: new Promise<number | null>((ok) => child.on('exit', (code) => ok(code))),
  });
}

async function whenImporting(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const r = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM runs WHERE feed = 'roster' AND status = 'running'`.execute(wh.db);
    if (r.rows[0]!.n > 0) return;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  throw new Error('the import never started');
}

const visible = async () =>
  (await sql<{ n: number }>`SELECT count(*)::int AS n FROM roster WHERE valid_to IS NULL`.execute(wh.db))
    .rows[0]!.n;

describe('SIGTERM during a scheduled import', () => {
  it('without grace: exits at once, nothing of the load is visible, the next start recovers and loads it', async () => {
    const s = scheduler(0);
    await whenImporting();
    await new Promise((ok) => setTimeout(ok, 300)); // well inside the COPY
    s.kill('SIGTERM');
    expect(await s.done).toBe(143); // 128 + SIGTERM: terminated
    expect(await visible()).toBe(0);
    const slot = await wh.db.selectFrom('job_slots').select(['status', 'attempts']).executeTakeFirstOrThrow();
    expect(slot).toEqual({ status: 'running', attempts: 1 }); // its claimer is dead: recovered by the next tick

    // Give the killed sessions a moment to leave pg_stat_activity, then a new scheduler takes over.
    await new Promise((ok) => setTimeout(ok, 500));
    const next = scheduler(120);
    expect(await next.done).toBe(0);
    expect(await visible()).toBe(ROWS);
    const runs = await wh.db
      .selectFrom('runs')
      .select(['status', 'error'])
      .where('feed', '=', 'roster')
      .orderBy('id')
      .execute();
    // The recovered slot loads the file; if the minute turned meanwhile, that minute's own slot runs too and
    // finds the same file already loaded (a recorded no-op) — either is correct, a second load is not.
    expect(runs.slice(0, 2)).toEqual([
      { status: 'failed', error: 'abandoned: the process running it ended' },
      { status: 'succeeded', error: null },
    ]);
    expect(runs.slice(2)).toEqual(runs.slice(2).map(() => ({ status: 'noop', error: null })));
    const retried = await wh.db
      .selectFrom('job_slots')
      .select(['status', 'attempts'])
      .orderBy('slot', 'desc')
      .execute();
    expect(retried.find((r) => r.attempts === 2)).toMatchObject({ status: 'succeeded' });
  }, 180_000);

  it('with grace: the running load finishes, all of it visible, then the process exits cleanly', async () => {
    await sql`TRUNCATE job_slots`.execute(wh.db);
    // A changed file, so the load is real work again.
    await writeRoster(roster, ROWS, 7);
    const s = scheduler(120);
    await whenImporting();
    await new Promise((ok) => setTimeout(ok, 300));
    s.kill('SIGTERM');
    expect(await s.done).toBe(0);
    const last = await wh.db
      .selectFrom('runs')
      .select(['status', 'rows_read'])
      .where('feed', '=', 'roster')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(last).toEqual({ status: 'succeeded', rows_read: ROWS });
    expect(await visible()).toBe(ROWS);
  }, 180_000);
});
