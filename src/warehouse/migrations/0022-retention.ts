/**
 * 0022: retention (issue 27; PIPL Arts. 19, 47 — personal information is kept no longer than its purpose needs,
 * then deleted). What src/retention/ needs to delete and still answer what the reports ask afterwards:
 *
 *   - `retired_finding_months`: what the closed findings it deletes contributed to the monthly report, counted by
 *     rule, department, township, village, month and state at the month's end — no person, no finding id. A row
 *     with `onward` holds for its month and every later one (a finding closed for good is `closed` at the end of
 *     every month after its last event), the others for their month only. Rows of several retention runs add up.
 *   - `quarantine.raw_purged_on`: the day a quarantined row's raw values (raw_value, record) were emptied. The row
 *     stays — the run's counts are in `runs`, and the row still says file, row, field and reason — and a NULL
 *     raw_value that was never there is told apart from one removed.
 *   - `persons.id_number` may be NULL, with `id_purged_on`: a person who left monitoring and every department's
 *     list long ago keeps the surrogate key (findings' counts and audit rows name keys, never IDs) but not the ID
 *     number. UNIQUE allows any number of NULLs; a person who comes back gets a new key, as a new person does.
 *
 * Not granted to <schema>_department (tables after 0006 are not): the bureau's reports read the summary.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE retired_finding_months (
      id               bigserial PRIMARY KEY,
      month            date NOT NULL CHECK (extract(day FROM month) = 1),
      onward           boolean NOT NULL,
      rule_id          text NOT NULL,
      department       text NOT NULL,
      township         text NOT NULL,
      village          text NOT NULL,
      state            text NOT NULL,
      n                integer NOT NULL CHECK (n > 0),
      open_at_start    integer NOT NULL,
      new              integer NOT NULL,
      closed           integer NOT NULL,
      closed_by_review integer NOT NULL,
      reopened         integer NOT NULL,
      overdue          integer NOT NULL,
      max_days_overdue integer,
      retired_on       date NOT NULL,
      CHECK (NOT onward OR state = 'closed')
    )`.execute(db);
  await sql`CREATE INDEX retired_finding_months_month ON retired_finding_months (month)`.execute(db);
  await sql`ALTER TABLE quarantine ADD COLUMN raw_purged_on date`.execute(db);
  await sql`ALTER TABLE persons ALTER COLUMN id_number DROP NOT NULL, ADD COLUMN id_purged_on date,
    ADD CHECK ((id_number IS NULL) = (id_purged_on IS NOT NULL))`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from backup instead');
}
