/**
 * The person page's 依据 (issue 21), in a real browser: under the bureau's view of a person, each finding has a
 * folded section (details/summary, no script) naming, per event a match wrote, the records behind it — the feed
 * by its Chinese title, the file, sheet and row, the load run and the data date. A department never reaches it:
 * the person page is refused, and its own list shows no lineage.
 */
import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { buildServer } from '../../src/http/server.ts';
import { createToken } from '../../src/http/tokens.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { tempDir } from '../support/files.ts';
import { A, C, type LineageCounty, loadLineageCounty } from '../support/lineage-county.ts';
import { testWarehouse } from '../support/warehouse.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-lineage-person-');
let wh: Warehouse;
let app: FastifyInstance;
let browser: Browser;
let base: string;
let county: LineageCounty;
const tokens = { bureau: '', health: '' };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the browser tests need Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
    );
  }
  wh = await testWarehouse('lineage_person');
  county = await loadLineageCounty(wh, { dir, config, log });
  tokens.bureau = (await createToken(wh, { role: 'bureau' })).token;
  tokens.health = (await createToken(wh, { role: 'department', department: '医保局' })).token;
  app = await buildServer({ wh, config, log, today: () => '2026-12-02' });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await wh?.close();
});

/** A browser with scripts off: the section must open without them. */
async function login(token: string): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    javaScriptEnabled: false,
  });
  const page = await context.newPage();
  await page.goto(`${base}/console/login`);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
  await page.waitForLoadState();
  return page;
}

const personUrl = (id: string) =>
  `${base}/console/persons?id=${id}&purpose=${encodeURIComponent('核实疑点依据')}`;

/** The section's events and their tables, as the reader sees them (cell texts). */
const shown = (page: Page, id: number) =>
  page.$eval(`#lineage-${id}`, (d) =>
    [...d.querySelectorAll('h4')].map((h) => {
      const next = h.nextElementSibling;
      return {
        event: h.textContent,
        rows:
          next?.tagName === 'TABLE'
            ? [...next.querySelectorAll('tr')].map((tr) => [...tr.children].map((c) => c.textContent))
            : next?.textContent,
      };
    }),
  );

describe('the person page’s 依据', () => {
  it('shows the bureau, folded, each event of the finding with the file and row behind it', async () => {
    const page = await login(tokens.bureau);
    await page.goto(personUrl(C.id));
    const section = page.locator(`#lineage-${county.findingId}`);
    expect(await section.getAttribute('open')).toBeNull();
    expect((await section.locator('summary').textContent())?.trim()).toBe(
      `依据：编号 ${county.findingId} R02 未参加基本医疗保险（重新打开）`,
    );
    expect(await page.locator(`#lineage-${county.findingId} table`).first().isVisible()).toBe(false);
    await section.locator('summary').click();
    expect(await page.locator(`#lineage-${county.findingId} table`).first().isVisible()).toBe(true);
    const head = ['数据', '记录', '文件', '工作表', '行', '导入批次', '数据日期'];
    const roster = [
      '防返贫监测对象名册',
      `身份证号：${C.id}`,
      '名册-1124.csv',
      '',
      '3',
      String(county.runs.roster1),
      '2026-11-24',
    ];
    expect(await shown(page, county.findingId)).toEqual([
      { event: '2026-11-24 发现（待派发）', rows: [head, roster] },
      {
        event: '2026-12-01 销号（数据显示已解决）',
        rows: [
          head,
          [
            '基本医疗保险参保名册',
            `身份证号：${C.id}，参保年度：2026，险种：城乡居民`,
            '参保-1201.csv',
            '',
            '3',
            String(county.runs.insurance2),
            '2026-12-01',
          ],
          roster,
        ],
      },
      { event: '2026-12-02 已销号 → 重新打开', rows: [head, roster] },
    ]);
    await page.screenshot({ path: 'artifacts/person-lineage.png', fullPage: true });
    await page.context().close();
  });

  it('has no section for a person without findings', async () => {
    const page = await login(tokens.bureau);
    await page.goto(personUrl(A.id));
    expect(await page.locator('#person-id').textContent()).toBe(A.id);
    expect(await page.locator('details.lineage').count()).toBe(0);
    await page.context().close();
  });

  it('is not shown to a department: the person page is refused and its list has none', async () => {
    const page = await login(tokens.health);
    const res = await page.goto(personUrl(C.id));
    expect(res?.status()).toBe(403);
    expect(await page.locator('details.lineage').count()).toBe(0);
    expect(await page.content()).not.toContain('依据');
    await page.goto(`${base}/console/department`);
    expect(await page.locator('body').textContent()).toContain(C.name);
    expect(await page.locator('details.lineage').count()).toBe(0);
    expect(await page.content()).not.toContain('名册-1124.csv');
    await page.context().close();
  });
});
