import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { feedPlacement, hasCitus, placements, TABLE_PLACEMENTS } from '../../src/warehouse/distribution.ts';
import { temporaryAid } from '../support/extension-feed.ts';
import { testWarehouse } from '../support/warehouse.ts';

const feeds = Object.values(FEEDS) as FeedDefinition[];

describe('every warehouse table has a place on a cluster', () => {
  let wh: Warehouse;
  beforeAll(async () => {
    wh = await testWarehouse('distribution');
  });
  afterAll(async () => {
    await wh.close();
  });

  it('names each table migrate creates, and nothing migrate does not create', async () => {
    const r = await sql<{ name: string }>`SELECT relname AS name FROM pg_class
      WHERE relnamespace = ${wh.schema}::regnamespace AND relkind IN ('r', 'p') ORDER BY 1`.execute(wh.db);
    const made = r.rows.map((t) => t.name);
    expect([...placements(feeds).keys()].sort()).toEqual(made);
  });

  it('leaves a single server as it was: no citus, nothing placed', async () => {
    expect(await hasCitus(wh.db)).toBe(false);
    const r = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE c.relnamespace = ${wh.schema}::regnamespace AND t.tgname = c.relname || '_written'
        AND t.tgenabled = 'O'`.execute(wh.db);
    expect(r.rows[0]?.n).toBe(feeds.length);
  });
});

describe('the distribution column', () => {
  it("is each feed's person ID: the head's in the household feeds, the person's elsewhere", () => {
    const columns = Object.fromEntries(feeds.map((f) => [f.id, feedPlacement(f)]));
    expect(columns).toEqual({
      roster: { kind: 'distributed', column: 'id_number' },
      student_roll: { kind: 'distributed', column: 'id_number' },
      home_schooling: { kind: 'distributed', column: 'id_number' },
      insurance: { kind: 'distributed', column: 'id_number' },
      settlements: { kind: 'distributed', column: 'id_number' },
      assistance: { kind: 'distributed', column: 'id_number' },
      housing: { kind: 'distributed', column: 'head_id_number' },
      water: { kind: 'distributed', column: 'head_id_number' },
      employment: { kind: 'distributed', column: 'id_number' },
      disability: { kind: 'distributed', column: 'id_number' },
      deaths: { kind: 'distributed', column: 'id_number' },
      disasters: { kind: 'distributed', column: 'head_id_number' },
    });
  });

  it('is for feed tables only: every other table is on the coordinator or a reference copy', () => {
    const kinds = new Set(Object.values(TABLE_PLACEMENTS).map((p) => p.kind));
    expect([...kinds].sort()).toEqual(['coordinator', 'reference']);
  });

  it("places a contributor's feed by its declared person field", () => {
    expect(placements([...feeds, temporaryAid]).get('test_temporary_aid')).toEqual({
      kind: 'distributed',
      column: 'id_number',
    });
  });

  it('refuses a feed without a required person ID field, naming it', () => {
    const { identity: _identity, ...anonymous } = temporaryAid;
    expect(() => feedPlacement({ ...anonymous, id: 'no_person' })).toThrow(
      /feed no_person: no required ID-number/,
    );
  });

  it('refuses a feed named like a placed table', () => {
    expect(() => placements([{ ...temporaryAid, id: 'runs' }])).toThrow(/feed runs: a table of that name/);
  });
});
