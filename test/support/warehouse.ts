import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { inject } from 'vitest';
import { createDb, createPool, type Warehouse } from '../../src/warehouse/connect.ts';
import { dropWarehouse } from '../../src/warehouse/drop-warehouse.ts';
import { migrate } from '../../src/warehouse/migrate.ts';
import type { AuditLogTable, Database } from '../../src/warehouse/schema.ts';

/** A migrated warehouse in a schema of its own on the test run's server; `close` drops the schema. */
export async function testWarehouse(label: string): Promise<Warehouse> {
  const url = inject('databaseUrl');
  const schema = `t_${label
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 30)}_${randomBytes(3).toString('hex')}`;
  const pool = createPool(url, schema);
  const db = createDb(pool);
  await migrate(db, schema);
  return {
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
}

export const databaseUrl = () => inject('databaseUrl');

export { dropWarehouse };

/*
 * What tests ask of a warehouse after the code under test has run: counts and rows read straight from its tables.
 */

/** The number a `SELECT count(*) AS n` query counted. */
const counted = async (q: { executeTakeFirstOrThrow(): Promise<{ n: string }> }) =>
  Number((await q.executeTakeFirstOrThrow()).n);
const N = sql<string>`count(*)`.as('n');

/** How many of `rule`'s findings are open (any state but closed). */
export function openFindingCount(wh: Warehouse, rule: string): Promise<number> {
  return counted(
    wh.db.selectFrom('findings').select(N).where('rule_id', '=', rule).where('state', '<>', 'closed'),
  );
}

/** A finding's state and the department's answer to it. */
export function findingAnswer(wh: Warehouse, id: number) {
  return wh.db
    .selectFrom('findings')
    .select(['state', 'feedback'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

/** How many times any finding moved to `toState`, as its history records. */
export function findingMoves(wh: Warehouse, toState: string): Promise<number> {
  return counted(wh.db.selectFrom('finding_events').select(N).where('to_state', '=', toState));
}

/** How many audit entries record `action`. */
export function auditCount(wh: Warehouse, action: string): Promise<number> {
  return counted(wh.db.selectFrom('audit_log').select(N).where('action', '=', action));
}

/** The `columns` of the audit entries of `action` (or of the actions `like` matches), oldest first. */
export function auditTrail<C extends keyof AuditLogTable & string>(
  wh: Warehouse,
  action: string | { like: string },
  columns: readonly C[],
) {
  const [op, value] =
    typeof action === 'string' ? (['=', action] as const) : (['like', action.like] as const);
  return wh.db.selectFrom('audit_log').select(columns).where('action', op, value).orderBy('id').execute();
}

/** The import runs in the ledger, oldest first. */
export function importRuns(wh: Warehouse) {
  return wh.db
    .selectFrom('runs')
    .select(['id', 'status', 'error'])
    .where('kind', '=', 'import')
    .orderBy('id')
    .execute();
}

/** A feed's state row: its cursor, its generation, the last file it loaded. */
export function feedState(db: Kysely<Database>, feed: string) {
  return db.selectFrom('feed_state').selectAll().where('feed', '=', feed).executeTakeFirstOrThrow();
}
