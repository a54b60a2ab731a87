/**
 * The web console in a real browser (playwright-core driving Debian's Chromium): the bureau's dashboard shows
 * the warehouse's numbers; a department downloads its list, uploads answers and sees the states change; the
 * session cookie, the CSP and logout work in a real browser.
 * Screenshots go to artifacts/. Chromium comes from `apt-get install -y chromium` (.ci/run installs it).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ExcelJS from 'exceljs';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { buildServer } from '../../src/http/server.ts';
import { createToken } from '../../src/http/tokens.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { loadDemoCounty } from '../support/demo.ts';
import { tempDir } from '../support/files.ts';
import { findingAnswer, testWarehouse } from '../support/warehouse.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../artifacts');
const AS_OF = '2026-11-24';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-console-');
let wh: Warehouse;
let app: FastifyInstance;
let browser: Browser;
let base: string;
const tokens = { bureau: '', edu: '' };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the browser tests need Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  wh = await testWarehouse('console');
  await loadDemoCounty(wh, { dir, persons: 1200, seed: 5, asOf: AS_OF, config, log });
  tokens.bureau = (await createToken(wh, { role: 'bureau' })).token;
  tokens.edu = (await createToken(wh, { role: 'department', department: '教育局' })).token;
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
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/console/login`);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
  return page;
}

describe('the console in a browser', () => {
  it('shows the bureau a dashboard whose numbers are the database’s', async () => {
    const page = await login(tokens.bureau);
    await page.waitForSelector('#open-total');
    const open = await wh.db
      .selectFrom('findings')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('state', '<>', 'closed')
      .executeTakeFirstOrThrow();
    expect(Number(await page.textContent('#open-total'))).toBe(Number(open.n));
    const rows = await page.$$eval('#open-by-rule tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    );
    expect(rows.reduce((n, r) => n + Number(r[2]), 0)).toBe(Number(open.n));
    const statuses = await page.$$eval('#indicators tbody td span', (s) =>
      s.map((x) => `${x.className}:${x.textContent}`),
    );
    expect(statuses.length).toBeGreaterThan(5);
    for (const s of statuses) expect(s).toMatch(/^(ok:达标|risk:风险|bad:未达标)$/);
    // The trend is drawn on the server as inline SVG (its figures are checked in console-dashboard.browser.test.ts).
    expect(await page.$$('main svg#trend')).toHaveLength(1);
    await page.screenshot({ path: join(ARTIFACTS, 'console-dashboard.png'), fullPage: true });
    await page.context().close();
  });

  it('lets a department download its list, upload answers and see the states change', async () => {
    const page = await login(tokens.edu);
    await page.waitForSelector('#items');
    const own = await wh.db
      .selectFrom('findings')
      .select('id')
      .where('department', '=', '教育局')
      .where('state', '<>', 'closed')
      .execute();
    expect(await page.$$('#items tbody tr')).toHaveLength(own.length);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const listPath = join(dir, 'downloaded.xlsx');
    await download.saveAs(listPath);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(listPath);
    const sheet = wb.worksheets.find((w) => w.name.startsWith('R01'))!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1) as string[];
    const itemId = String(sheet.getRow(2).getCell(header.indexOf('清单编号') + 1).value);
    sheet.getRow(2).getCell(header.indexOf('核实结果') + 1).value = '已整改';
    sheet.getRow(2).getCell(header.indexOf('整改日期') + 1).value = '2026-11-20';
    sheet.getRow(3).getCell(header.indexOf('核实结果') + 1).value = '核实不属实'; // no reason: a row error
    const answered = join(dir, '教育局-已填写.xlsx');
    await wb.xlsx.writeFile(answered);

    await page.setInputFiles('#upload input[type=file]', answered);
    await page.click('#upload button[type=submit]');
    await page.waitForSelector('#result');
    expect(await page.textContent('#result')).toMatch(/1 条已更新/);
    // One line in Chinese naming the row, the column and what was expected.
    expect(await page.$$eval('#errors tbody td', (tds) => tds.map((td) => td.textContent))).toEqual([
      sheet.name,
      '3',
      '说明',
      '第3行 说明：核实结果为"核实不属实"时须填写原因',
    ]);
    const row = await page.$$eval(
      '#items tbody tr',
      (trs, id) => {
        const tr = trs.find((t) => t.querySelector('td')?.textContent === id);
        return tr ? [...tr.querySelectorAll('td')].map((td) => td.textContent) : null;
      },
      itemId,
    );
    expect(row).toContain('已反馈');
    expect(row).toContain('已整改');
    expect(await findingAnswer(wh, Number(itemId))).toEqual({ state: 'feedback', feedback: 'rectified' });
    await page.screenshot({ path: join(ARTIFACTS, 'console-department.png'), fullPage: true });
    await page.context().close();
  });

  it('keeps a session id, not the token, in the cookie; styles load under the CSP; logout ends the session', async () => {
    const page = await login(tokens.bureau);
    await page.waitForSelector('#open-total');
    // The stylesheet is allowed by its hash: the header is styled, so the CSP did not block it.
    expect(
      await page.$eval('header', (h) => h.ownerDocument.defaultView!.getComputedStyle(h).backgroundColor),
    ).toBe('rgb(31, 78, 121)');
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => c.name)).toEqual(['rh_session']);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false });
    expect(cookies[0]!.value).not.toContain(tokens.bureau);
    const before = await wh.db.selectFrom('console_sessions').select('id').execute();
    await page.click('header form button');
    await page.waitForSelector('input[name=token]');
    expect(await page.context().cookies()).toEqual([]);
    expect(await wh.db.selectFrom('console_sessions').select('id').execute()).toHaveLength(before.length - 1);
    await page.goto(`${base}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await page.context().close();
  });
});
