/**
 * A finding's lineage over HTTP (issue 21): GET /api/findings/{id}/lineage gives the bureau each event a match
 * wrote with the files and rows behind it, IDs masked; a department — even the finding's own — gets exactly the
 * answer of a finding that does not exist, and the attempt is audited; an operator is refused; /openapi.json
 * lists the route.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { buildServer } from '../../src/http/server.ts';
import { createToken } from '../../src/http/tokens.ts';
import { maskIdNumber } from '../../src/normalize/mask.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { tempDir } from '../support/files.ts';
import { C, type LineageCounty, loadLineageCounty } from '../support/lineage-county.ts';
import { auditCount, testWarehouse } from '../support/warehouse.ts';

const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-lineage-api-');
let wh: Warehouse;
let app: FastifyInstance;
let county: LineageCounty;
const tok = { bureau: '', operator: '', health: '', edu: '' };

beforeAll(async () => {
  wh = await testWarehouse('lineage_api');
  county = await loadLineageCounty(wh, { dir, config, log });
  tok.bureau = (await createToken(wh, { role: 'bureau' })).token;
  tok.operator = (await createToken(wh, { role: 'operator' })).token;
  tok.health = (await createToken(wh, { role: 'department', department: '医保局' })).token;
  tok.edu = (await createToken(wh, { role: 'department', department: '教育局' })).token;
  app = await buildServer({ wh, config, log, today: () => '2026-12-02' });
});
afterAll(async () => {
  await app?.close();
  await wh?.close();
});

const get = (who: keyof typeof tok, url: string) =>
  app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tok[who]}` } });

describe('GET /api/findings/{id}/lineage', () => {
  it('gives the bureau every event with the exact files and rows behind it, the ID masked', async () => {
    const res = await get('bureau', `/api/findings/${county.findingId}/lineage`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(res.body).not.toContain(C.id);
    const masked = maskIdNumber(C.id);
    expect(body.finding).toMatchObject({
      id: county.findingId,
      rule_id: 'R02',
      department: '医保局',
      subject_kind: 'person',
      id_number: masked,
      state: 'reopened',
    });
    expect(body.finding).not.toHaveProperty('subject_key');
    const roster = {
      feed: 'roster',
      feed_title: '防返贫监测对象名册',
      kind: 'version',
      key: { 证件号码: masked },
      source: '名册-1124.csv',
      sheet: null,
      row: 3,
      run_id: county.runs.roster1,
      data_date: '2026-11-24',
    };
    type Shown = {
      on_date: string;
      from_state: string | null;
      to_state: string;
      as_of: string;
      records: { version_id?: number }[];
    };
    // The three matches' runs, in order (R02 alone ran, one run each).
    const matches = (
      await wh.db.selectFrom('runs').select('id').where('kind', '=', 'match').orderBy('id').execute()
    ).map((r) => Number(r.id));
    expect(matches).toHaveLength(3);
    const eventIds = (
      await wh.db
        .selectFrom('finding_events')
        .select('id')
        .where('finding_id', '=', county.findingId)
        .orderBy('id')
        .execute()
    ).map((e) => Number(e.id));
    const events = (body.events as Shown[]).map(({ records, ...e }) => ({
      ...e,
      records: records.map(({ version_id: _v, ...r }) => r),
    }));
    expect(events).toEqual([
      {
        id: eventIds[0],
        on_date: '2026-11-24',
        from_state: null,
        to_state: 'open',
        reason: 'found',
        run_id: matches[0],
        as_of: '2026-11-24',
        records: [roster],
      },
      {
        id: eventIds[1],
        on_date: '2026-12-01',
        from_state: 'open',
        to_state: 'closed',
        reason: 'no longer found by the data',
        run_id: matches[1],
        as_of: '2026-12-01',
        records: [
          {
            feed: 'insurance',
            feed_title: '基本医疗保险参保名册',
            kind: 'version',
            key: { 公民身份号码: masked, 参保年度: '2026', 险种: '城乡居民' },
            source: '参保-1201.csv',
            sheet: null,
            row: 3,
            run_id: county.runs.insurance2,
            data_date: '2026-12-01',
          },
          roster,
        ],
      },
      {
        id: eventIds[2],
        on_date: '2026-12-02',
        from_state: 'closed',
        to_state: 'reopened',
        reason: 'found again after being closed',
        run_id: matches[2],
        as_of: '2026-12-02',
        records: [roster],
      },
    ]);
  });

  it('answers a department exactly as for a finding that does not exist, and audits the attempt', async () => {
    const missing = await get('bureau', '/api/findings/999999/lineage');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { status: 404, code: 'not_found', message: 'no such finding' } });
    const before = await auditCount(wh, 'access.denied');
    // The finding's own department (医保局), another one, and a missing id: one answer, byte for byte.
    for (const [who, id] of [
      ['health', county.findingId],
      ['edu', county.findingId],
      ['health', 999999],
    ] as const) {
      const res = await get(who, `/api/findings/${id}/lineage`);
      expect([res.statusCode, res.body]).toEqual([404, missing.body]);
    }
    expect(await auditCount(wh, 'access.denied')).toBe(before + 3);
    // The department still reads its own finding where its list's fields are (the route the lineage is not).
    expect((await get('health', `/api/findings/${county.findingId}`)).statusCode).toBe(200);
  });

  it('refuses an operator (no personal data), audited', async () => {
    const before = await auditCount(wh, 'access.denied');
    const res = await get('operator', `/api/findings/${county.findingId}/lineage`);
    expect(res.statusCode).toBe(403);
    expect(await auditCount(wh, 'access.denied')).toBe(before + 1);
  });

  it('is described in /openapi.json', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const op = doc.paths['/api/findings/{id}/lineage'].get;
    expect(op.description).toBe('Roles: bureau, department');
    expect(op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(['path:id']);
    expect(Object.keys(op.responses)).toEqual(['200', '400', '401', '403', '404']);
  });
});
