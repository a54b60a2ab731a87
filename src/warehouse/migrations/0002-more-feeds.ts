/**
 * 0002: the other eight feeds of DOMAIN §4, with the same history columns as 0001.
 * Written out (not generated from pipelines/feeds) so that this migration means the same thing forever.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  const history = sql`
      row_hash     bytea NOT NULL,
      valid_from   timestamptz NOT NULL,
      valid_to     timestamptz,
      run_id       bigint NOT NULL REFERENCES runs (id),
      ended_run_id bigint REFERENCES runs (id),
      source       text NOT NULL,
      sheet        text,
      row_number   integer NOT NULL`;

  await sql`
    CREATE TABLE settlements (
      version_id bigserial PRIMARY KEY,
      settlement_id text NOT NULL, name text NOT NULL, id_number text NOT NULL, visit_type text,
      admitted_on date, discharged_on date, settled_on date NOT NULL, total_cost numeric(14, 2),
      basic_paid numeric(14, 2), critical_paid numeric(14, 2), aid_paid numeric(14, 2),
      out_of_pocket numeric(14, 2) NOT NULL,
      ${history}
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX settlements_current ON settlements (settlement_id) WHERE valid_to IS NULL`.execute(
    db,
  );

  await sql`
    CREATE TABLE assistance (
      version_id bigserial PRIMARY KEY,
      name text NOT NULL, id_number text NOT NULL, head_id_number text, aid_type text NOT NULL,
      started_on date, ended_on date, monthly_amount numeric(14, 2), status text NOT NULL,
      ${history}
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX assistance_current ON assistance (id_number, aid_type) WHERE valid_to IS NULL`.execute(
    db,
  );

  await sql`
    CREATE TABLE housing (
      version_id bigserial PRIMARY KEY,
      head_name text NOT NULL, head_id_number text NOT NULL, safety_grade text NOT NULL,
      renovation_status text, assessed_on date, completed_on date,
      ${history}
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX housing_current ON housing (head_id_number) WHERE valid_to IS NULL`.execute(
    db,
  );

  await sql`
    CREATE TABLE water (
      version_id bigserial PRIMARY KEY,
      head_name text NOT NULL, head_id_number text NOT NULL, village text,
      water_safe boolean NOT NULL, problem_type text,
      ${history}
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX water_current ON water (head_id_number) WHERE valid_to IS NULL`.execute(db);

  await sql`
    CREATE TABLE employment (
      version_id bigserial PRIMARY KEY,
      name text NOT NULL, id_number text NOT NULL, employment_status text, employment_form text,
      workplace text, monthly_income numeric(14, 2), registered_on date NOT NULL,
      training_program text, training_ended_on date,
      ${history}
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX employment_current ON employment (id_number, registered_on) WHERE valid_to IS NULL`.execute(
    db,
  );

  await sql`
    CREATE TABLE disability (
      version_id bigserial PRIMARY KEY,
      name text NOT NULL, id_number text NOT NULL, category text, grade text NOT NULL,
      issued_on date, cert_status text,
      ${history}
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX disability_current ON disability (id_number) WHERE valid_to IS NULL`.execute(
    db,
  );

  await sql`
    CREATE TABLE deaths (
      version_id bigserial PRIMARY KEY,
      name text NOT NULL, id_number text NOT NULL, died_on date NOT NULL, deregistered_on date,
      ${history}
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX deaths_current ON deaths (id_number) WHERE valid_to IS NULL`.execute(db);

  await sql`
    CREATE TABLE disasters (
      version_id bigserial PRIMARY KEY,
      head_name text NOT NULL, head_id_number text NOT NULL, disaster_type text NOT NULL,
      hit_on date NOT NULL, loss numeric(14, 2),
      ${history}
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX disasters_current ON disasters (head_id_number, hit_on, disaster_type) WHERE valid_to IS NULL`.execute(
    db,
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
