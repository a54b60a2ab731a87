/**
 * A warehouse whose disk fills during a load: the feed's table is moved to a tablespace on a 1 MB tmpfs
 * (mounted here: the test needs root, and a PostgreSQL on this host that can read the mount), and a load
 * larger than the space left runs into ENOSPC in its publishing transaction. The run must end `failed` naming
 * the full disk, and the warehouse must be exactly as before: the rows, the feed's state, its checkpoint.
 * Skipped, saying why, where it cannot be done honestly (not root, no tmpfs, a remote server).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmdirSync, statSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadMessage } from '../../connectors/connector.ts';
import { silentLogger } from '../../core/log.ts';
import { deaths } from '../../pipelines/feeds/deaths.ts';
import type { FeedConfig } from '../../schemas/config.ts';
import { importFeed, type RecordSource } from '../../src/load/import-feed.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testId } from '../support/demo.ts';
import { databaseUrl, testWarehouse } from '../support/warehouse.ts';

const tag = randomBytes(3).toString('hex');
const space = `rh_full_${tag}`;
const dir = mkdtempSync(join(tmpdir(), 'rh-full-'));

/** Why the test cannot run here, or null once the tablespace exists. */
async function setUp(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const c = new pg.Client({ connectionString: databaseUrl() });
  await c.connect();
  try {
    const su = await c.query<{ s: string }>("SELECT current_setting('is_superuser') AS s");
    if (su.rows[0]!.s !== 'on') return 'CREATE TABLESPACE needs a PostgreSQL superuser';
    const dataDir = (await c.query<{ d: string }>("SELECT current_setting('data_directory') AS d")).rows[0]!
      .d;
    if (!existsSync(dataDir)) return `PostgreSQL is not on this host (no ${dataDir} here)`;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir], { stdio: 'pipe' });
    } catch (err) {
      return `cannot mount a tmpfs here (${(err as { stderr?: Buffer }).stderr?.toString().trim()})`;
    }
    const owner = statSync(dataDir);
    await chown(dir, owner.uid, owner.gid); // PostgreSQL writes the tablespace as its own user
    await c.query(`CREATE TABLESPACE ${space} LOCATION '${dir}'`);
    return null;
  } finally {
    await c.end();
  }
}

const feedConfig: Partial<FeedConfig> = {
  header_aliases: { name: ['xm'], id_number: ['sfzh'], died_on: ['swrq'] },
};
/** A valid ID number per n: 999 sequence numbers per birth date, dates from 1930-01-01 on. */
const id = (n: number) => {
  const born = new Date(Date.UTC(1930, 0, 1) + Math.floor(n / 999) * 86_400_000);
  return testId((n % 999) + 1, `520102${born.toISOString().slice(0, 10).replaceAll('-', '')}`);
};
/** `n` deaths from `from` on, as a department database would hand them over. */
function deathsSource(from: number, n: number): RecordSource {
  return {
    label: 'test:deaths',
    async *read(): AsyncGenerator<ReadMessage> {
      yield { type: 'header', columns: ['xm', 'sfzh', 'swrq'], position: { source: 'test', row: 0 } };
      for (let i = from; i < from + n; i++) {
        yield {
          type: 'record',
          cells: [`死者${i}`, id(i), '2026-10-01'],
          position: { source: 'test', row: i },
        };
      }
      yield { type: 'checkpoint', cursor: String(from + n) };
    },
  };
}

let wh: Warehouse;
let skip: string | null = 'not set up';
beforeAll(async () => {
  skip = await setUp();
  if (skip) console.warn(`disk-full test skipped: ${skip}`);
  wh = await testWarehouse('diskfull');
});
afterAll(async () => {
  await wh?.close(); // drops the feed's table out of the tablespace first
  const c = new pg.Client({ connectionString: databaseUrl() });
  await c.connect();
  await c.query(`DROP TABLESPACE IF EXISTS ${space}`).catch(() => undefined);
  await c.end();
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    // not mounted (skipped)
  }
  rmdirSync(dir);
});

describe('a load that fills the warehouse disk', () => {
  it('ends failed naming the full disk and leaves the warehouse as it was', async (ctx) => {
    if (skip) ctx.skip();
    const load = (source: RecordSource) =>
      importFeed({
        wh,
        feed: deaths,
        feedConfig,
        source,
        log: silentLogger(),
        today: '2026-11-24',
        timeZone: 'Asia/Shanghai',
      });
    expect((await load(deathsSource(1, 200))).counts.rows_new).toBe(200);
    await sql`ALTER TABLE ${sql.id('deaths')} SET TABLESPACE ${sql.id(space)}`.execute(wh.db);
    const picture = async () => ({
      rows: await sql<{ n: number; digest: string }>`
        SELECT count(*)::int AS n, md5(string_agg(d::text, '|' ORDER BY d::text)) AS digest FROM deaths d`.execute(
        wh.db,
      ),
      state: await wh.db.selectFrom('feed_state').selectAll().where('feed', '=', 'deaths').execute(),
    });
    const before = await picture();
    // ~20,000 rows of a few hundred bytes: several MB into a 1 MB filesystem.
    const err = await load(deathsSource(1000, 20_000)).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /^test:deaths: import failed, disk full: could not extend file .*No space left on device.*; nothing of this load was published$/,
    );
    const run = await wh.db
      .selectFrom('runs')
      .select(['status', 'error'])
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(run).toEqual({ status: 'failed', error: (err as Error).message });
    expect(await picture()).toEqual(before);
    // Nothing left behind: the run's staging tables were dropped.
    const staged = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = ${wh.schema} AND tablename LIKE 'stg_%'`.execute(
      wh.db,
    );
    expect(staged.rows[0]!.n).toBe(0);
  });
});
