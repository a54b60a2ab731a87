import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { MigrationResultSet } from 'kysely';
import { describe, expect, it } from 'vitest';
import { isIntrospectionRace, KYSELY_MIGRATION_LOCK } from '../../src/warehouse/migrate.ts';

const failed = (code: string, ran = false): MigrationResultSet => ({
  error: Object.assign(new Error('raced'), { code }),
  results: ran ? [{ migrationName: '0001-initial', direction: 'Up', status: 'Error' }] : [],
});

describe("Kysely's catalog read raced by another session's DDL", () => {
  it('is retried for a table, a schema or a column dropped, or a relation mid-drop, before any migration ran', () => {
    // 42703 is what CI met: another test's schema lost a column between Kysely's listing and its reading.
    expect(['42P01', '3F000', '42703', 'XX000'].map((c) => isIntrospectionRace(failed(c)))).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });

  it('is a real failure once a migration ran, or for any other error', () => {
    expect(isIntrospectionRace(failed('42703', true))).toBe(false);
    expect(isIntrospectionRace(failed('42601'))).toBe(false);
    expect(isIntrospectionRace({ results: [] })).toBe(false);
  });
});

describe("the feed tables' creation under Kysely's migration lock", () => {
  it("takes the lock id Kysely's PostgreSQL adapter takes, in the Kysely installed", () => {
    // The id is private to Kysely: an upgrade that changed it would let a feed table be made beside a migrator.
    const main = createRequire(import.meta.url).resolve('kysely'); // …/kysely/dist/cjs/index.js
    const adapter = readFileSync(join(dirname(main), 'dialect/postgres/postgres-adapter.js'), 'utf8');
    expect(adapter).toContain(`const LOCK_ID = BigInt('${KYSELY_MIGRATION_LOCK}')`);
  });
});
