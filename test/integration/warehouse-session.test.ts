import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testWarehouse } from '../support/warehouse.ts';

let wh: Warehouse;
beforeAll(async () => {
  wh = await testWarehouse('session');
});
afterAll(async () => wh.close());

describe("a warehouse session's settings", () => {
  it('reads its own schema first and plans without JIT, on every connection of the pool', async () => {
    // Four at once, so that the pool opens more than one connection.
    const seen = await Promise.all(
      [1, 2, 3, 4].map(() =>
        wh.db.transaction().execute(async (trx) => {
          const r = await sql<{ jit: string; schema: string }>`
            SELECT current_setting('jit') AS jit, current_schema() AS schema FROM pg_sleep(0.05)`.execute(
            trx,
          );
          return r.rows[0];
        }),
      ),
    );
    expect(seen).toEqual(Array(4).fill({ jit: 'off', schema: wh.schema }));
  });
});
