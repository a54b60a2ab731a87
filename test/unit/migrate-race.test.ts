import type { MigrationResultSet } from 'kysely';
import { describe, expect, it } from 'vitest';
import { isIntrospectionRace } from '../../src/warehouse/migrate.ts';

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
