/**
 * The console speaks Chinese to every reader, in a real browser on the demo county: for the bureau, a department
 * and the operator, no page shows a code of the closed vocabularies (finding states, run statuses, feed verdicts,
 * roles, feeds, feed fields and their enum values) or an internal column; the person page is a clerk's page that
 * fits a 1280 px screen; the findings filter takes the state as the table shows it. And /api/persons/{id} gives
 * no Buffers, the household from the roster, and times with the county's offset.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { FEED_IDS, FEEDS } from '../../pipelines/feeds/index.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { buildServer } from '../../src/http/server.ts';
import { createToken } from '../../src/http/tokens.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { englishIn, visibleText, ENGLISH_WORD as WORD } from '../support/console-text.ts';
import { loadDemoCounty } from '../support/demo.ts';
import { tempDir } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../artifacts');
const AS_OF = '2026-11-24';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-console-labels-');
let wh: Warehouse;
let app: FastifyInstance;
let browser: Browser;
let base: string;
const tokens = { bureau: '', edu: '', operator: '' };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the browser tests need Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
    );
  }
  wh = await testWarehouse('console_labels');
  await loadDemoCounty(wh, { dir, persons: 1200, seed: 5, asOf: AS_OF, config, log });
  tokens.bureau = (await createToken(wh, { role: 'bureau' })).token;
  tokens.edu = (await createToken(wh, { role: 'department', department: '教育局' })).token;
  tokens.operator = (await createToken(wh, { role: 'operator' })).token;
  app = await buildServer({ wh, config, log, today: () => AS_OF });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await wh?.close();
});

async function login(token: string) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/console/login`);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
  await page.waitForLoadState();
  return page;
}

/** A person with findings open and closed, a household of several members and a record in several feeds. */
async function richPerson(): Promise<string> {
  const row = await wh.db
    .selectFrom('findings as f')
    .innerJoin('roster as r', (j) => j.onRef('r.id_number', '=', 'f.id_number').on('r.valid_to', 'is', null))
    .select('f.id_number')
    .where('f.id_number', 'is not', null)
    .groupBy('f.id_number')
    .orderBy((eb) => eb.fn.countAll(), 'desc')
    .orderBy('f.id_number')
    .executeTakeFirstOrThrow();
  return row.id_number!;
}

describe('Chinese labels on every console page', () => {
  it('counts as English the words the tester found on the pages', () => {
    const found =
      'roster household_type: alleviated labor_capacity: able ok failing succeeded noop sent bureau';
    expect([...found.matchAll(WORD)].map((m) => m[1])).toEqual([
      'roster',
      'household_type',
      'alleviated',
      'labor_capacity',
      'able',
      'failing',
      'succeeded',
      'noop',
      'sent',
      'bureau',
    ]);
    expect('R01 教育局 A级 2026-11-24'.match(WORD)).toBeNull();
  });

  it('shows the bureau no vocabulary code on the dashboard, findings, person and operator pages', async () => {
    const page = await login(tokens.bureau);
    expect(await page.textContent('#who')).toBe('乡村振兴局');
    const id = await richPerson();
    for (const path of [
      '/console',
      '/console/findings',
      '/console/findings?state=closed',
      `/console/persons?id=${id}&purpose=${encodeURIComponent('入户核查')}`,
      '/console/operator',
    ]) {
      await page.goto(`${base}${path}`);
      expect(await englishIn(page), path).toEqual([]);
    }
    await page.context().close();
  });

  it('shows a department and the operator their pages, and a refusal, in Chinese', async () => {
    const edu = await login(tokens.edu);
    expect(await edu.textContent('#who')).toBe('教育局');
    expect(await englishIn(edu)).toEqual([]);
    await edu.goto(`${base}/console/findings`);
    expect(await edu.textContent('main .error')).toBe('此页面不对部门开放。');
    await edu.context().close();

    const op = await login(tokens.operator);
    expect(op.url()).toBe(`${base}/console/operator`);
    expect(await op.textContent('#who')).toBe('运维人员');
    expect(await englishIn(op)).toEqual([]);
    const verdicts = await op.$$eval('#feeds tbody tr td:nth-child(2)', (tds) =>
      tds.map((t) => t.textContent),
    );
    expect(new Set(verdicts)).toEqual(new Set(['正常']));
    const statuses = await op.$$eval('#runs tbody tr td:nth-child(5)', (tds) =>
      tds.map((t) => t.textContent),
    );
    expect(new Set(statuses)).toEqual(new Set(['成功']));
    const feeds = await op.$$eval('#feeds tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
    expect(feeds).toEqual(FEED_IDS.map((f) => FEEDS[f].title));
    await op.context().close();
  });
});

describe('the findings filter', () => {
  it('finds by 已派发 the rows it finds by sent, and offers the states as a drop-down of Chinese labels', async () => {
    // Some findings sent, as a department's download would.
    await wh.db
      .updateTable('findings')
      .set({ state: 'sent', sent_on: AS_OF })
      .where('department', '=', '医保局')
      .where('state', '=', 'open')
      .execute();
    const sent = await wh.db
      .selectFrom('findings')
      .select('id')
      .where('state', '=', 'sent')
      .orderBy('rule_id')
      .orderBy('id')
      .limit(200)
      .execute();
    expect(sent.length).toBeGreaterThan(0);
    const page = await login(tokens.bureau);
    const ids = async (state: string) => {
      await page.goto(`${base}/console/findings?state=${encodeURIComponent(state)}`);
      return page.$$eval('#findings tbody tr td:first-child', (tds) => tds.map((t) => Number(t.textContent)));
    };
    expect(await ids('已派发')).toEqual(sent.map((s) => Number(s.id)));
    expect(await ids('sent')).toEqual(sent.map((s) => Number(s.id)));
    expect(await page.inputValue('#filter-state')).toBe('sent');
    expect(await page.$$eval('#filter-state option', (os) => os.map((o) => o.textContent))).toEqual([
      '未销号',
      '全部',
      '待派发',
      '已派发',
      '已反馈',
      '已销号',
      '重新打开',
    ]);
    // Chosen from the drop-down, as a clerk does.
    await page.selectOption('#filter-state', { label: '已派发' });
    await Promise.all([page.waitForNavigation(), page.click('#filter button')]);
    expect(await page.$$eval('#findings tbody tr', (trs) => trs.length)).toBe(sent.length);
    await page.goto(`${base}/console/findings?state=${encodeURIComponent('派发了')}`);
    expect(await page.textContent('main .error')).toBe('没有“派发了”这个状态。请从下拉列表中选择。');

    const api = async (state: string) =>
      (
        await app.inject({
          method: 'GET',
          url: `/api/findings?page_size=500&state=${encodeURIComponent(state)}`,
          headers: { authorization: `Bearer ${tokens.bureau}` },
        })
      ).json() as { total: number; items: { id: number }[] };
    const byLabel = await api('已派发');
    expect(byLabel.total).toBe((await api('sent')).total);
    expect(byLabel.items.map((i) => i.id)).toEqual((await api('sent')).items.map((i) => i.id));
    await page.context().close();
  });
});

describe('the person page', () => {
  it('reads as a clerk reads it, without internals, within 1280 px', async () => {
    const id = await richPerson();
    const roster = await wh.db
      .selectFrom('roster')
      .select(['household_id', 'name', 'sex'])
      .where('id_number', '=', id)
      .where('valid_to', 'is', null)
      .executeTakeFirstOrThrow();
    const members = await wh.db
      .selectFrom('roster')
      .select('id_number')
      .where('household_id', '=', roster.household_id)
      .where('valid_to', 'is', null)
      .execute();
    const page = await login(tokens.bureau);
    await page.goto(`${base}/console/persons?id=${id}&purpose=${encodeURIComponent('入户核查')}`);
    expect(await page.textContent('#person-id')).toBe(id);
    expect(await page.textContent('#person h2')).toBe(`${roster.name} ${id}`);
    expect(await page.$$eval('#members tbody tr', (trs) => trs.length)).toBe(members.length);
    const sexes = await page.$$eval('#members tbody td:nth-child(4)', (tds) => tds.map((t) => t.textContent));
    for (const s of sexes) expect(['男', '女']).toContain(s);
    // The roster's record with Chinese field names and values, and where it came from.
    const rosterText = await page.textContent('#feed-roster');
    expect(rosterText).toContain(`户编号${roster.household_id}`);
    expect(rosterText).toContain(`性别${roster.sex === 'M' ? '男' : '女'}`);
    expect(rosterText).toMatch(
      /来源：roster-防返贫监测对象\.csv，第 \d+ 行，\d{4}-\d{2}-\d{2} \d{2}:\d{2} 入库/,
    );
    const open = await wh.db
      .selectFrom('findings')
      .select('id')
      .where('id_number', '=', id)
      .where('state', '<>', 'closed')
      .execute();
    const shownOpen = await page.$$eval('#open-findings tbody tr td:first-child', (tds) =>
      tds.map((t) => Number(t.textContent)),
    );
    for (const f of open) expect(shownOpen).toContain(Number(f.id));
    expect(await page.$eval('html', (h) => h.scrollWidth)).toBeLessThanOrEqual(1280);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'console-person.png'), fullPage: true });
    const text = await visibleText(page);
    for (const w of ['raw_hash', 'row_hash', 'version_id', 'valid_from', 'Buffer', '[object Object]'])
      expect(text).not.toContain(w);
    await page.context().close();
  });

  it('is found by name and village too, audited with its purpose', async () => {
    const id = await richPerson();
    const r = await wh.db
      .selectFrom('roster')
      .select(['name', 'village'])
      .where('id_number', '=', id)
      .where('valid_to', 'is', null)
      .executeTakeFirstOrThrow();
    const page = await login(tokens.bureau);
    await page.goto(
      `${base}/console/persons?name=${encodeURIComponent(r.name)}&village=${encodeURIComponent(r.village!)}&purpose=${encodeURIComponent('走访核实')}`,
    );
    if (await page.$('#candidates')) {
      await Promise.all([page.waitForNavigation(), page.click(`#candidates a >> nth=0`)]);
    }
    expect(await page.textContent('#person h2')).toContain(r.name);
    const audits = await wh.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('action', 'in', ['person.lookup', 'person.search'])
      .orderBy('id', 'desc')
      .limit(1)
      .execute();
    expect(audits[0]!.action).toBe('person.lookup');
    expect(audits[0]!.details).toMatchObject({ purpose: '走访核实', via: 'console', by: 'name_village' });
    await page.context().close();
  });
});

describe('/api/persons/{id}', () => {
  it('gives no Buffers, the household from the roster, and times with the county’s offset', async () => {
    const id = await richPerson();
    const res = await app.inject({
      method: 'GET',
      url: `/api/persons/${id}?purpose=${encodeURIComponent('入户核查')}`,
      headers: { authorization: `Bearer ${tokens.bureau}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain('"Buffer"');
    expect(res.body).not.toContain('raw_hash');
    expect(res.body).not.toContain('row_hash');
    const body = res.json() as {
      household_id: string | null;
      feeds: Record<string, Record<string, unknown>[]>;
      findings: { state: string; state_label: string }[];
    };
    const roster = await wh.db
      .selectFrom('roster')
      .select('household_id')
      .where('id_number', '=', id)
      .where('valid_to', 'is', null)
      .executeTakeFirstOrThrow();
    expect(body.household_id).toBe(roster.household_id);
    const rows = Object.values(body.feeds).flat();
    expect(rows.length).toBeGreaterThan(1);
    for (const r of rows) {
      expect(r.valid_from).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);
      if (r.valid_to !== null) expect(r.valid_to).toMatch(/\+08:00$/);
    }
    const labels: Record<string, string> = {
      open: '待派发',
      sent: '已派发',
      feedback: '已反馈',
      closed: '已销号',
      reopened: '重新打开',
    };
    expect(body.findings.length).toBeGreaterThan(0);
    for (const f of body.findings) expect(f.state_label).toBe(labels[f.state]);
  });
});
