/**
 * 0019: a load's data date — the date the file or source describes (a file exported on the 1st and loaded on the
 * 3rd describes the 1st) — beside the load's own time, and where it came from: `flag` (import --data-date), `job`
 * (a scheduled import's slot date), `file …` (a title row's 导出日期/统计截至 …, with the sheet and row) or
 * `load_day` (nothing stated: the load's local date). NULL for runs before this migration and for runs that ended
 * before it was known.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE runs ADD COLUMN data_date date, ADD COLUMN data_date_from text`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
