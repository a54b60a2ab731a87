/**
 * 0018: money is loaded as the tables have always stored it, numeric(14,2) — the normalizer rounds to cents and
 * refuses a trillion yuan or more (money_out_of_range) instead of the cast rounding after the row's hash was taken
 * (12.345 hashed as sent, stored as 12.35) or a 13-digit amount failing the whole load.
 *
 * A row's content hash is taken over its typed values, so a money value now always reads with two decimals
 * (1234.50, not 1234.5): the current versions' hashes are recomputed from the stored columns, as the loader now
 * computes them, so that the first load after the upgrade finds unchanged rows unchanged instead of writing a
 * version of every row. The feeds' fields are written out in their declared order as of this migration, so that it
 * means the same thing forever (src/load/normalize-staged.ts rowHash).
 */
import { type Kysely, sql } from 'kysely';

const FIELDS: Record<string, readonly string[]> = {
  roster: [
    'county',
    'township',
    'village',
    'village_code',
    'household_id',
    'name',
    'id_number',
    'sex',
    'relation',
    'household_type',
    'monitor_category',
    'risk_type',
    'risk_eliminated',
    'identified_on',
    'risk_eliminated_on',
    'labor_capacity',
    'schooling_status',
    'income_per_capita',
    'phone',
  ],
  settlements: [
    'settlement_id',
    'name',
    'id_number',
    'visit_type',
    'admitted_on',
    'discharged_on',
    'settled_on',
    'total_cost',
    'basic_paid',
    'critical_paid',
    'aid_paid',
    'out_of_pocket',
    'birth_date',
    'home_village',
  ],
  assistance: [
    'name',
    'id_number',
    'head_id_number',
    'aid_type',
    'started_on',
    'ended_on',
    'monthly_amount',
    'status',
    'birth_date',
    'home_village',
  ],
  employment: [
    'name',
    'id_number',
    'employment_status',
    'employment_form',
    'workplace',
    'monthly_income',
    'registered_on',
    'training_program',
    'training_ended_on',
    'birth_date',
    'home_village',
  ],
  disasters: ['head_name', 'head_id_number', 'disaster_type', 'hit_on', 'loss', 'birth_date', 'home_village'],
};

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  for (const [table, fields] of Object.entries(FIELDS)) {
    const row = sql.join(fields.map((f) => sql.ref(f)));
    await sql`UPDATE ${sql.table(table)} SET row_hash = decode(md5(ROW(${row})::text), 'hex')
      WHERE valid_to IS NULL`.execute(db);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
