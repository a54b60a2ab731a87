/**
 * `findings --explain` for a finding of every rule (issue 21): on the demo county, each rule's first finding has
 * records behind the event that opened it, each from a feed the rule reads, each the version (or the rejected
 * row) it names, valid at the match's date, with its load's data date.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { RULE_IDS, RULES } from '../../pipelines/rules/index.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { readFindingLineage } from '../../src/findings/lineage.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { versionValidAt } from '../../src/warehouse/feed-table.ts';
import { loadDemoCounty } from '../support/demo.ts';
import { tempDir } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';

const AS_OF = '2026-11-24';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
let wh: Warehouse;

beforeAll(async () => {
  wh = await testWarehouse('lineage_rules');
  await loadDemoCounty(wh, {
    dir: tempDir('ruralhub-lineage-rules-'),
    persons: 400,
    seed: 11,
    asOf: AS_OF,
    config,
    log: silentLogger(),
  });
}, 300_000);
afterAll(async () => wh?.close());

describe('the records behind a finding of each rule', () => {
  for (const rule of RULE_IDS) {
    it(`${rule}: the opening event names versions of the rule's feeds valid at the date, with their load`, async () => {
      const first = await wh.db
        .selectFrom('findings')
        .select('id')
        .where('rule_id', '=', rule)
        .orderBy('id')
        .executeTakeFirst();
      expect(first, `${rule} has a finding in the demo county`).toBeDefined();
      const lineage = (await readFindingLineage(wh.db, Number(first!.id)))!;
      const opened = lineage.events.find((e) => e.to_state === 'open' && e.run_id !== null)!;
      expect(opened.as_of).toBe(AS_OF);
      expect(opened.records.length).toBeGreaterThan(0);
      const feeds = new Set<string>([...RULES[rule].requires, ...(RULES[rule].uses ?? [])]);
      for (const r of opened.records) {
        expect(feeds.has(r.feed), `${rule} reads ${r.feed}`).toBe(true);
        const run = await wh.db
          .selectFrom('runs')
          .select(['data_date', 'feed'])
          .where('id', '=', r.run_id)
          .executeTakeFirstOrThrow();
        expect(run.feed).toBe(r.feed);
        expect(r.data_date).toBe(run.data_date);
        if (r.version_id === null) {
          // A rejected row (R13): the quarantined row of that load, file and row.
          const q = await sql<{ n: number }>`SELECT count(*)::int AS n FROM quarantine
            WHERE id = ${r.quarantine_id} AND run_id = ${r.run_id} AND source = ${r.source}
              AND row_number = ${r.row_number}`.execute(wh.db);
          expect(q.rows[0]!.n).toBe(1);
          continue;
        }
        const v = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.id(r.feed)} v
          WHERE v.version_id = ${r.version_id} AND v.run_id = ${r.run_id} AND v.source = ${r.source}
            AND v.row_number = ${r.row_number} AND ${versionValidAt('v', AS_OF)}`.execute(wh.db);
        expect(v.rows[0]!.n, `${rule}: ${r.feed} version ${r.version_id}`).toBe(1);
      }
    });
  }
});
