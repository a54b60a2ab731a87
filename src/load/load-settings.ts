import { type Kysely, sql } from 'kysely';
import type { Database } from '../warehouse/schema.ts';

/**
 * Planner settings for a load's statements, local to their transaction. Memory for the sorts and hash joins
 * (per operation, not per session). The cost of a random page read as on SSD-backed, well-cached servers: at the
 * default (4, spinning disks) a few thousand staged rows were diffed by a scan of the whole feed table instead of
 * probes of its key index (measured: 145 ms vs 50 ms for 5k rows against a 500k-row roster). And no JIT: cost
 * estimates inflated by per-row subplans made PostgreSQL spend ~400 ms compiling a 140 ms query, and the one
 * long statement (normalizing the file: calls of SQL functions) ran no faster with it (500k rows: 6.3 s with,
 * 5.9 s without).
 */
export async function loadSettings(trx: Kysely<Database>, statementMs: number): Promise<void> {
  // The loader's own limit per statement (RURALHUB_DB_LOAD_STATEMENT_TIMEOUT), below the session's: a load
  // whose statement runs away fails with its reason instead of holding the feed's lock.
  await sql`SET LOCAL statement_timeout = ${sql.lit(statementMs)}`.execute(trx);
  await sql`SET LOCAL work_mem = '256MB'`.execute(trx);
  await sql`SET LOCAL random_page_cost = 1.1`.execute(trx);
  await sql`SET LOCAL jit = off`.execute(trx);
}
