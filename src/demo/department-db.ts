/**
 * The demo's 公安局 database: the deaths feed served from a department's own PostgreSQL table instead of a
 * file, so `ruralhub demo` exercises the SQL connector (catalog check, keyset paging, cursor checkpoint) on
 * every machine. The "department" is a schema of the warehouse's own server — the only database a newcomer's
 * machine is sure to have. Its table is typed the way a department system types it (dates as dates), and is
 * rebuilt from the generated file on each demo run.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';
import { SqlConfigSchema } from '../../schemas/sources.ts';
import type { Warehouse } from '../warehouse/connect.ts';

export const DEPARTMENT_SCHEMA = 'demo_public_security';
export const DEPARTMENT_TABLE = '死亡注销登记';
/** The environment variable the SQL connector reads the department's connection string from. */
export const DEPARTMENT_URL_ENV = 'RURALHUB_DEMO_DEPARTMENT_URL';

/**
 * Fills the department table from the generated deaths CSV (姓名, 公民身份号码, 死亡日期, 注销日期) and returns
 * the source configuration that reads it, as `feeds.deaths.source` would in a county's config.
 */
export async function serveDeathsFromDatabase(
  wh: Warehouse,
  deathsCsv: string,
): Promise<ReturnType<typeof SqlConfigSchema.parse>> {
  const url = wh.connectionUrl?.();
  if (!url) throw new Error('the demo department database needs the warehouse connection');
  await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(DEPARTMENT_SCHEMA)}`.execute(wh.db);
  await sql`DROP TABLE IF EXISTS ${sql.table(`${DEPARTMENT_SCHEMA}.${DEPARTMENT_TABLE}`)}`.execute(wh.db);
  await sql`CREATE TABLE ${sql.table(`${DEPARTMENT_SCHEMA}.${DEPARTMENT_TABLE}`)} (
      姓名 text NOT NULL, 公民身份号码 text NOT NULL, 死亡日期 date NOT NULL, 注销日期 date NOT NULL)`.execute(
    wh.db,
  );
  const client = await wh.pool.connect();
  try {
    const copy = sql`COPY ${sql.table(`${DEPARTMENT_SCHEMA}.${DEPARTMENT_TABLE}`)} FROM STDIN WITH (FORMAT csv, HEADER true)`;
    await pipeline(createReadStream(deathsCsv), client.query(copyFrom(copy.compile(wh.db).sql)));
  } finally {
    client.release();
  }
  process.env[DEPARTMENT_URL_ENV] = url;
  return SqlConfigSchema.parse({
    dialect: 'postgres',
    url_env: DEPARTMENT_URL_ENV,
    schema: DEPARTMENT_SCHEMA,
    table: DEPARTMENT_TABLE,
    cursor: '注销日期',
    key: ['公民身份号码'],
  });
}
