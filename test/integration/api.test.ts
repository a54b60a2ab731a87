/**
 * The HTTP API on the demo county: every role × endpoint boundary, department scope enforced by PostgreSQL,
 * audited refusals and lookups, rate limiting, upload limits, one error shape, the OpenAPI description, the
 * reporting schema for BI tools — and a scan of every response body for unmasked ID numbers outside the
 * places DOMAIN §9 allows them.
 */
import ExcelJS from 'exceljs';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { withDepartmentScope } from '../../src/http/scope.ts';
import { buildServer } from '../../src/http/server.ts';
import { createToken } from '../../src/http/tokens.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { loadDemoCounty } from '../support/demo.ts';
import { tempDir } from '../support/files.ts';
import { multipart } from '../support/multipart.ts';
import { auditCount, findingAnswer, testWarehouse } from '../support/warehouse.ts';

const AS_OF = '2026-11-24';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-api-');
const FULL_ID = /(?<![0-9])[0-9]{17}[0-9X](?![0-9])/;
let wh: Warehouse;
let app: FastifyInstance;
const tok: Record<'bureau' | 'operator' | 'edu' | 'health', string> = {
  bureau: '',
  operator: '',
  edu: '',
  health: '',
};

/** Every response of the suite, with whether DOMAIN §9 allows full IDs in it. */
const seen: { what: string; body: string; fullIdsAllowed: boolean }[] = [];

async function call(
  who: keyof typeof tok | null,
  method: 'GET' | 'POST',
  url: string,
  opts: { fullIdsAllowed?: boolean; payload?: Buffer; headers?: Record<string, string> } = {},
) {
  const res = await app.inject({
    method,
    url,
    headers: { ...(who ? { authorization: `Bearer ${tok[who]}` } : {}), ...opts.headers },
    payload: opts.payload,
  });
  const binary = String(res.headers['content-type'] ?? '').includes('spreadsheet');
  if (!binary)
    seen.push({ what: `${who} ${method} ${url}`, body: res.body, fullIdsAllowed: !!opts.fullIdsAllowed });
  return res;
}

const deniedAudits = () => auditCount(wh, 'access.denied');

beforeAll(async () => {
  wh = await testWarehouse('api');
  await loadDemoCounty(wh, { dir, persons: 1200, seed: 5, asOf: AS_OF, config, log });
  tok.bureau = (await createToken(wh, { role: 'bureau', label: '局办公室' })).token;
  tok.operator = (await createToken(wh, { role: 'operator' })).token;
  tok.edu = (await createToken(wh, { role: 'department', department: '教育局' })).token;
  tok.health = (await createToken(wh, { role: 'department', department: '医保局' })).token;
  app = await buildServer({ wh, config, log, today: () => AS_OF });
}, 240_000);
afterAll(async () => {
  await app?.close();
  await wh?.close();
});

describe('authentication and errors', () => {
  it('refuses requests without a valid token with one JSON error shape and no internals', async () => {
    for (const r of [
      await call(null, 'GET', '/api/findings'),
      await app.inject({ method: 'GET', url: '/api/findings', headers: { authorization: 'Bearer rh_nope' } }),
    ]) {
      expect(r.statusCode).toBe(401);
      expect(Object.keys(r.json())).toEqual(['error']);
      expect(r.json().error).toMatchObject({ status: 401, code: 'unauthorized' });
    }
    const bad = await call('bureau', 'GET', '/api/findings?page_size=9999');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/query parameter page_size/);
    expect(bad.body).not.toMatch(/at .*\.ts:\d+|SELECT|node_modules/);
    expect((await call('bureau', 'GET', '/api/nothing')).statusCode).toBe(404);
  });

  it('describes every route in /openapi.json', async () => {
    const doc = (await call(null, 'GET', '/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/approvals',
      '/api/approvals/person-lookups',
      '/api/approvals/{id}/approve',
      '/api/approvals/{id}/deny',
      '/api/findings',
      '/api/findings/{id}',
      '/api/findings/{id}/lineage',
      '/api/households/{id}',
      '/api/indicators',
      '/api/lists/current.xlsx',
      '/api/lists/feedback',
      '/api/persons/{id}',
      '/api/quarantine/counts',
      '/api/runs',
      '/api/status',
    ]);
    expect(doc.paths['/api/findings'].get.parameters.map((p: { name: string }) => p.name)).toContain(
      'page_size',
    );
  });
});

describe('department boundaries', () => {
  it('a department lists only its own findings, with full IDs; asking for another’s is 403 and audited', async () => {
    const own = await call('edu', 'GET', '/api/findings?page_size=500', { fullIdsAllowed: true });
    expect(own.statusCode).toBe(200);
    const body = own.json();
    expect(body.total).toBeGreaterThan(0);
    expect(new Set(body.items.map((i: { department: string }) => i.department))).toEqual(new Set(['教育局']));
    expect(
      body.items.some((i: { id_number: string | null }) => i.id_number && FULL_ID.test(i.id_number)),
    ).toBe(true);

    const before = await deniedAudits();
    const other = await call('edu', 'GET', `/api/findings?department=${encodeURIComponent('医保局')}`);
    expect(other.statusCode).toBe(403);
    const healthItem = await wh.db
      .selectFrom('findings')
      .select('id')
      .where('department', '=', '医保局')
      .executeTakeFirstOrThrow();
    expect((await call('edu', 'GET', `/api/findings/${healthItem.id}`)).statusCode).toBe(403);
    expect(await deniedAudits()).toBe(before + 2);
    expect((await call('edu', 'GET', '/api/findings/99999999')).statusCode).toBe(404);
    const mine = body.items[0];
    const one = await call('edu', 'GET', `/api/findings/${mine.id}`, { fullIdsAllowed: true });
    expect(one.json()).toMatchObject({ id: mine.id, department: '教育局' });
    expect(one.json().history.length).toBeGreaterThan(0);
  });

  it('is enforced by PostgreSQL itself: the department scope sees only that department’s rows', async () => {
    const all = await sql<{ n: number }>`SELECT count(*)::int AS n FROM findings`.execute(wh.db);
    const edu = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM findings WHERE department = '教育局'`.execute(wh.db);
    const scoped = await withDepartmentScope(wh, '教育局', (trx) =>
      sql<{ n: number; role: string }>`SELECT count(*)::int AS n, current_user AS role FROM findings`.execute(
        trx,
      ),
    );
    expect(scoped.rows[0]!.n).toBe(edu.rows[0]!.n);
    expect(scoped.rows[0]!.n).toBeLessThan(all.rows[0]!.n);
    expect(scoped.rows[0]!.role).toBe(`${wh.schema}_department`);
    // Even an UPDATE of another department's item touches nothing.
    const upd = await withDepartmentScope(wh, '教育局', (trx) =>
      sql`UPDATE findings SET state = 'closed' WHERE department = '医保局'`.execute(trx),
    );
    expect(Number(upd.numAffectedRows)).toBe(0);
  });
});

describe('roles', () => {
  it('the bureau sees everything with IDs masked; operators see no personal data', async () => {
    const b = await call('bureau', 'GET', '/api/findings?page_size=500');
    expect(b.statusCode).toBe(200);
    expect(new Set(b.json().items.map((i: { department: string }) => i.department)).size).toBeGreaterThan(3);
    expect(b.json().items[0].id_number).toMatch(/^\d{4}\*{10}[\dX]{4}$/);
    expect(
      (await call('bureau', 'GET', '/api/indicators?level=township')).json().items.length,
    ).toBeGreaterThan(0);
    const hh = b.json().items.find((i: { household_id: string | null }) => i.household_id).household_id;
    expect((await call('bureau', 'GET', `/api/households/${hh}`)).json().members.length).toBeGreaterThan(0);

    for (const url of ['/api/runs', '/api/status', '/api/quarantine/counts']) {
      expect((await call('operator', 'GET', url)).statusCode, url).toBe(200);
      expect((await call('edu', 'GET', url)).statusCode, url).toBe(403);
    }
    for (const url of [
      '/api/findings',
      '/api/indicators',
      `/api/households/${hh}`,
      '/api/persons/110105194912310021?purpose=核查',
    ]) {
      expect((await call('operator', 'GET', url)).statusCode, url).toBe(403);
    }
    expect((await call('edu', 'GET', '/api/indicators')).statusCode).toBe(403);
    expect((await call('bureau', 'GET', '/api/lists/current.xlsx')).statusCode).toBe(403);
  });

  it('person lookup needs a purpose, is audited, shows full IDs to the bureau and is rate limited', async () => {
    const f = await wh.db
      .selectFrom('findings')
      .select(['id_number'])
      .where('department', '=', '教育局')
      .where('id_number', 'is not', null)
      .executeTakeFirstOrThrow();
    const id = f.id_number!;
    expect((await call('bureau', 'GET', `/api/persons/${id}`)).statusCode).toBe(400);
    const r = await call('bureau', 'GET', `/api/persons/${id}?purpose=${encodeURIComponent('入户核查')}`, {
      fullIdsAllowed: true,
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().id_number).toBe(id);
    expect(r.json().feeds.roster.length).toBeGreaterThan(0);
    // Phone numbers are masked in a lookup: the first 3 and last 4 digits.
    const phones = (r.json().feeds.roster as { phone: string | null }[]).flatMap((x) =>
      x.phone ? [x.phone] : [],
    );
    expect(phones.length).toBeGreaterThan(0);
    for (const p of phones) expect(p).toMatch(/^[0-9]{3}\*+[0-9]{4}$/);
    const lookups = await wh.db
      .selectFrom('audit_log')
      .select(['target', 'details', 'role'])
      .where('action', '=', 'person.lookup')
      .execute();
    expect(lookups.at(-1)).toEqual({
      target: `${id.slice(0, 4)}**********${id.slice(-4)}`,
      details: { purpose: '入户核查' },
      role: 'bureau',
    });
    // A department may look up a person on its own list (and sees only its own findings), not others.
    const edu = await call('edu', 'GET', `/api/persons/${id}?purpose=${encodeURIComponent('核实')}`, {
      fullIdsAllowed: true,
    });
    expect(edu.statusCode).toBe(200);
    expect(edu.json().feeds).toBeUndefined();
    expect(new Set(edu.json().findings.map((x: { department: string }) => x.department))).toEqual(
      new Set(['教育局']),
    );
    const before = await deniedAudits();
    expect(
      (await call('health', 'GET', `/api/persons/${id}?purpose=${encodeURIComponent('核实')}`)).statusCode,
    ).toBe(403);
    expect(await deniedAudits()).toBe(before + 1);
    let limited = 0;
    for (let i = 0; i < 32; i++) {
      const res = await app.inject({
        method: 'GET',
        url: `/api/persons/${id}?purpose=x${i}`,
        headers: { authorization: `Bearer ${tok.bureau}` },
      });
      if (res.statusCode === 429) limited++;
    }
    expect(limited).toBeGreaterThan(0);
  });
});

describe('lists over HTTP', () => {
  it('a department downloads its list, uploads answers, and sees per-row errors and the new states', async () => {
    const dl = await call('edu', 'GET', '/api/lists/current.xlsx');
    expect(dl.statusCode).toBe(200);
    expect(dl.headers['content-type']).toMatch(/spreadsheetml/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(dl.rawPayload as unknown as ArrayBuffer);
    const sheet = wb.worksheets.find((w) => w.name.startsWith('R01'))!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1) as string[];
    const answerCol = header.indexOf('核实结果') + 1;
    const idCol = header.indexOf('清单编号') + 1;
    const first = String(sheet.getRow(2).getCell(idCol).value);
    sheet.getRow(2).getCell(answerCol).value = '整改中';
    sheet.getRow(3).getCell(answerCol).value = '不知道';
    const file = Buffer.from(await wb.xlsx.writeBuffer());
    const up = multipart('教育局-问题清单.xlsx', file);
    const r = await call('edu', 'POST', '/api/lists/feedback', { ...up, fullIdsAllowed: true });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ department: '教育局', applied: 1 });
    expect(r.json().errors).toEqual([
      expect.objectContaining({
        row: 3,
        field: '核实结果',
        message: '第3行 核实结果："不知道"不是可选的核实结果，应为"已整改"、"核实不属实"或"整改中"之一',
      }),
    ]);
    expect(await findingAnswer(wh, Number(first))).toEqual({ state: 'feedback', feedback: 'in_progress' });
    // The health office cannot answer the education office's list.
    const foreign = await call('health', 'POST', '/api/lists/feedback', multipart('x.xlsx', file));
    expect(foreign.statusCode).toBe(400);
    // Named as the department named the file, never the server's temporary file, and no command-line option.
    expect(foreign.json().error).toEqual({
      status: 400,
      code: 'config',
      message: 'x.xlsx：封面页写明这是教育局的清单，不是医保局的清单，不能作为医保局的核实结果导入',
    });
  });

  it('refuses uploads above the size limit and of other types', async () => {
    const big = await call(
      'edu',
      'POST',
      '/api/lists/feedback',
      multipart('big.xlsx', Buffer.alloc(11 * 1024 * 1024)),
    );
    expect(big.statusCode).toBe(413);
    const exe = await call('edu', 'POST', '/api/lists/feedback', multipart('x.exe', Buffer.from('MZ')));
    expect(exe.statusCode).toBe(400);
  });
});

describe('the reporting schema for BI tools', () => {
  it('has masked views that the read-only role can read, and nothing else', async () => {
    const rep = `${wh.schema}_reporting`;
    const rows = await sql<{
      id_number_masked: string;
    }>`SELECT id_number_masked FROM ${sql.table(`${rep}.findings`)} WHERE id_number_masked IS NOT NULL LIMIT 5`.execute(
      wh.db,
    );
    for (const r of rows.rows) expect(r.id_number_masked).toMatch(/^\d{4}\*{10}[\dX]{4}$/);
    await wh.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL ROLE ${sql.id(`${wh.schema}_reader`)}`.execute(trx);
      const n = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM ${sql.table(`${rep}.finding_counts`)}`.execute(trx);
      expect(n.rows[0]!.n).toBeGreaterThan(0);
      await sql`SAVEPOINT s`.execute(trx);
      await expect(
        sql`SELECT 1 FROM ${sql.table(`${wh.schema}.roster`)} LIMIT 1`.execute(trx),
      ).rejects.toThrow(/permission denied/);
      await sql`ROLLBACK TO SAVEPOINT s`.execute(trx);
    });
  });
});

describe('privacy', () => {
  it('no response of this suite carries a full ID number outside the places §9 allows', () => {
    expect(seen.length).toBeGreaterThan(30);
    const leaks = seen.filter((s) => !s.fullIdsAllowed && FULL_ID.test(s.body)).map((s) => s.what);
    expect(leaks).toEqual([]);
  });
});
