/**
 * The cluster tests' warehouses: one schema on the Citus coordinator (test/cluster/global-setup.ts), one on the
 * single server, each migrated by the same `migrate` — which distributes the first, since its server has Citus.
 */
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { inject } from 'vitest';
import type { RuleId } from '../../pipelines/rules/index.ts';
import { createDb, createPool, type Warehouse } from '../../src/warehouse/connect.ts';
import { type MigrateOutcome, migrate } from '../../src/warehouse/migrate.ts';
import { dropWarehouse } from '../support/warehouse.ts';

/** A warehouse in a schema of its own at `url`, with what its migrate did and took; `close` drops it. */
export async function warehouseAt(
  url: string,
  label: string,
): Promise<{ wh: Warehouse; migrated: MigrateOutcome; migrateMs: number }> {
  const schema = `c_${label}_${randomBytes(3).toString('hex')}`;
  const pool = createPool(url, schema);
  const db = createDb(pool);
  const started = performance.now();
  const migrated = await migrate(db, schema);
  const migrateMs = performance.now() - started;
  const wh: Warehouse = {
    db,
    pool,
    schema,
    where: 'test',
    embedded: false,
    connectionUrl: () => url,
    async close() {
      await dropWarehouse(db, schema);
      await db.destroy();
    },
  };
  return { wh, migrated, migrateMs };
}

export const clusterUrl = () => inject('clusterUrl');
export const singleUrl = () => inject('databaseUrl');

/** A rule's findings as the two servers must agree on them: every column the rule decides, in one order. */
export async function findingsOf(wh: Warehouse, rule: RuleId): Promise<string[]> {
  const r = await sql<{ row: string }>`
    SELECT concat_ws(' | ', subject_key, subject_kind, department, state, id_number, household_id, name, township,
                     village, details::text, first_seen_on::text, deadline::text) AS row
    FROM findings WHERE rule_id = ${rule} ORDER BY subject_key`.execute(wh.db);
  return r.rows.map((x) => x.row);
}

/**
 * What the loads wrote into `from`, copied as it is into `to` (a warehouse of the same migrations): the ledger, the
 * feeds' state, the surrogate keys, the rejected rows and every version of every feed table, and the sequences
 * past them. The rules then run on the cluster against exactly the single server's data, whatever the loader can
 * do on a cluster today.
 */
export async function copyLoads(from: Warehouse, to: Warehouse, feeds: readonly string[]): Promise<void> {
  const tables = [
    'runs',
    'feed_state',
    'regions',
    'persons',
    'households',
    'quarantine',
    'load_conflicts',
    'identity_review',
    ...feeds,
  ];
  const src = await from.pool.connect();
  const dst = await to.pool.connect();
  try {
    for (const table of tables) {
      const name = `"${from.schema}"."${table}"`;
      const target = `"${to.schema}"."${table}"`;
      const out = src.query(copyTo(`COPY ${name} TO STDOUT (FORMAT binary)`));
      const into = dst.query(copyFrom(`COPY ${target} FROM STDIN (FORMAT binary)`));
      await pipeline(out, into);
    }
    const seqs = await src.query<{ seq: string; last: string; called: boolean }>(
      `SELECT sequencename AS seq, last_value::text AS last, true AS called FROM pg_sequences
       WHERE schemaname = $1 AND last_value IS NOT NULL`,
      [from.schema],
    );
    for (const s of seqs.rows) {
      await dst.query('SELECT setval(format($1, $2::text, $3::text)::regclass, $4::bigint)', [
        '%I.%I',
        to.schema,
        s.seq,
        s.last,
      ]);
    }
  } finally {
    src.release();
    dst.release();
  }
}

/**
 * Every version of a feed table as the two servers must agree on it: its values, hashes, position in its file and
 * both time axes' shape (data dates; current or not) — not the ids and timestamps each server gives it.
 */
export async function versionsOf(wh: Warehouse, feed: string): Promise<string[]> {
  const r = await sql<{ row: string }>`
    SELECT (to_jsonb(f) - 'version_id' - 'run_id' - 'ended_run_id' - 'valid_from' - 'valid_to'
            || jsonb_build_object('current', f.valid_to IS NULL))::text AS row
    FROM ${sql.table(feed)} f ORDER BY 1`.execute(wh.db);
  return r.rows.map((x) => x.row);
}

/** Labelled durations for a test's log (ms): `timed(label, f)` runs f and records how long it took. */
export function stopwatch() {
  const timings: Record<string, number> = {};
  const timed = async <T>(label: string, f: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await f();
    } finally {
      timings[label] = Math.round(performance.now() - started);
    }
  };
  return { timings, timed };
}
