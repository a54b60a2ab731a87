/**
 * Department boundaries enforced by PostgreSQL, not only by route handlers: a department's reads run in a
 * transaction that sets `ruralhub.department` (row-level security of migration 0006 then shows only its
 * findings) and switches to the NOLOGIN role <schema>_department, because superusers — and the embedded
 * server's user is one — bypass row-level security.
 */
import { sql, type Transaction } from 'kysely';
import type { Department } from '../../schemas/vocab.ts';
import type { Warehouse } from '../warehouse/connect.ts';
import type { Database } from '../warehouse/schema.ts';

export async function withDepartmentScope<T>(
  wh: Warehouse,
  department: Department,
  fn: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return wh.db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('ruralhub.department', ${department}, true)`.execute(trx);
    const role = `${wh.schema}_department`;
    const exists = await sql<{
      ok: boolean;
    }>`SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${role}) AS ok`.execute(trx);
    if (exists.rows[0]?.ok) await sql`SET LOCAL ROLE ${sql.id(role)}`.execute(trx);
    return fn(trx);
  });
}
