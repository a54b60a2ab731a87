/**
 * 0002: the other eight feeds of DOMAIN §4, made as 0001 made its four (createFeedTable0001).
 * Written out (not generated from pipelines/feeds) so that this migration means the same thing forever.
 */
import { type Kysely, sql } from 'kysely';
import { createFeedTable0001 } from './frozen.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await createFeedTable0001(
    db,
    'settlements',
    sql`settlement_id text NOT NULL, name text NOT NULL, id_number text NOT NULL, visit_type text,
      admitted_on date, discharged_on date, settled_on date NOT NULL, total_cost numeric(14, 2),
      basic_paid numeric(14, 2), critical_paid numeric(14, 2), aid_paid numeric(14, 2),
      out_of_pocket numeric(14, 2) NOT NULL`,
    ['settlement_id'],
  );
  await createFeedTable0001(
    db,
    'assistance',
    sql`name text NOT NULL, id_number text NOT NULL, head_id_number text, aid_type text NOT NULL,
      started_on date, ended_on date, monthly_amount numeric(14, 2), status text NOT NULL`,
    ['id_number', 'aid_type'],
  );
  await createFeedTable0001(
    db,
    'housing',
    sql`head_name text NOT NULL, head_id_number text NOT NULL, safety_grade text NOT NULL,
      renovation_status text, assessed_on date, completed_on date`,
    ['head_id_number'],
  );
  await createFeedTable0001(
    db,
    'water',
    sql`head_name text NOT NULL, head_id_number text NOT NULL, village text,
      water_safe boolean NOT NULL, problem_type text`,
    ['head_id_number'],
  );
  await createFeedTable0001(
    db,
    'employment',
    sql`name text NOT NULL, id_number text NOT NULL, employment_status text, employment_form text,
      workplace text, monthly_income numeric(14, 2), registered_on date NOT NULL,
      training_program text, training_ended_on date`,
    ['id_number', 'registered_on'],
  );
  await createFeedTable0001(
    db,
    'disability',
    sql`name text NOT NULL, id_number text NOT NULL, category text, grade text NOT NULL,
      issued_on date, cert_status text`,
    ['id_number'],
  );
  await createFeedTable0001(
    db,
    'deaths',
    sql`name text NOT NULL, id_number text NOT NULL, died_on date NOT NULL, deregistered_on date`,
    ['id_number'],
  );
  await createFeedTable0001(
    db,
    'disasters',
    sql`head_name text NOT NULL, head_id_number text NOT NULL, disaster_type text NOT NULL,
      hit_on date NOT NULL, loss numeric(14, 2)`,
    ['head_id_number', 'hit_on', 'disaster_type'],
  );

  // Rules join these by person; their business keys do not start with the ID number.
  await sql`CREATE INDEX settlements_person ON settlements (id_number, settled_on) WHERE valid_to IS NULL`.execute(
    db,
  );
  await sql`CREATE INDEX employment_person ON employment (id_number) WHERE valid_to IS NULL`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
