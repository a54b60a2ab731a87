/**
 * The bureau's 日动态 and findings browser in a real browser on the demo county, matched on load day and
 * again in the new year (a new insurance year: more findings, and findings past their deadline): every count on the dashboard opens
 * the findings it counts; the charts are inline SVG carrying the tables' figures, drawn within the CSP; the
 * browser pages through every finding exactly once, filters by township, village and overdue, says each
 * finding's problem, links to the person by key, and exports exactly what is filtered as CSV, masked, neutralized
 * and audited; no page shows a machine word.
 *
 * RURALHUB_SCREENSHOTS=1 also writes the README's screenshots (docs/images/dashboard.png, findings.png,
 * person.png); other runs leave them alone.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { buildServer } from '../../src/http/server.ts';
import { createToken } from '../../src/http/tokens.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import { maskIdNumber } from '../../src/normalize/mask.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { englishIn } from '../support/console-text.ts';
import { loadDemoCounty } from '../support/demo.ts';
import { tempDir } from '../support/files.ts';
import { testWarehouse } from '../support/warehouse.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const IMAGES = resolve(import.meta.dirname, '../../docs/images');
const SCREENSHOTS = process.env.RURALHUB_SCREENSHOTS === '1';
const LOADED = '2026-11-24';
const TODAY = '2027-01-05';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-console-dashboard-');
let wh: Warehouse;
let app: FastifyInstance;
let browser: Browser;
let base: string;
let bureau = '';

beforeAll(async () => {
  wh = await testWarehouse('console_dashboard');
  await loadDemoCounty(wh, { dir, persons: 1200, seed: 5, asOf: LOADED, config, log });
  await runMatch({ wh, config, log, asOf: TODAY });
  bureau = (await createToken(wh, { role: 'bureau' })).token;
  app = await buildServer({ wh, config, log, today: () => TODAY });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await wh?.close();
});

/** A signed-in bureau page; CSP violations it meets are collected in `violations`. */
async function login(): Promise<{ page: Page; violations: string[] }> {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.goto(`${base}/console/login`);
  await page.fill('input[name=token]', bureau);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return { page, violations };
}

const base0 = () => wh.db.selectFrom('findings');
type Findings = ReturnType<typeof base0>;
/** How many findings the condition keeps, by SQL: what the pages must show. */
const count = async (where: (q: Findings) => Findings) =>
  Number(
    (
      await where(base0())
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

/** The cells of a table, row by row, as text. */
const cells = (page: Page, id: string) =>
  page.$$eval(`#${id} tbody tr`, (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
  );

/** The texts of an SVG chart's <text> elements, in document order. */
const svgTexts = (page: Page, id: string) =>
  page.$$eval(`svg#${id} text`, (ts) => ts.map((t) => (t.textContent ?? '').trim()));

describe('the 日动态', () => {
  it('links every count to a findings view holding exactly that many findings', async () => {
    const { page } = await login();
    expect(new URL(page.url()).pathname).toBe('/console');
    const open = await count((q) => q.where('state', '<>', 'closed'));
    const overdue = await count((q) => q.where('state', '<>', 'closed').where('deadline', '<', TODAY));
    expect(overdue).toBeGreaterThan(0);
    expect(overdue).toBeLessThan(open);
    expect(await page.textContent('#open-total')).toBe(String(open));
    expect(await page.textContent('#overdue-total')).toBe(String(overdue));

    // Every figure of the count tables is a link (the indicators' population columns count people, not findings).
    for (const [id, from] of [
      ['by-rule', 1],
      ['by-department', 1],
      ['overdue-by-department', 1],
      ['open-by-rule', 2],
      ['trend-table', 1],
    ] as const) {
      const plain = await page.$$eval(
        `#${id} tbody tr`,
        (trs, from) =>
          trs.flatMap((tr) =>
            [...tr.querySelectorAll('td')].slice(from).filter((td) => !td.querySelector('a')),
          ),
        from,
      );
      expect(plain, id).toHaveLength(0);
    }
    const byRule = await cells(page, 'by-rule');
    expect(byRule.reduce((n, r) => n + Number(r[1]), 0)).toBe(open);
    expect(byRule.reduce((n, r) => n + Number(r[2]), 0)).toBe(overdue);

    const links = await page.$$eval('main a[href^="/console/findings"]', (as) =>
      as.map((a) => ({ href: a.getAttribute('href')!, n: Number(a.textContent) })),
    );
    // open and overdue, by rule, by department, overdue by department, rule × department, indicators, trend
    expect(links.length).toBeGreaterThan(2 + 2 * byRule.length);
    const seen = new Map<string, number>();
    for (const l of links) {
      if (seen.has(l.href)) {
        expect(seen.get(l.href), l.href).toBe(l.n);
        continue;
      }
      await page.goto(`${base}${l.href}`);
      expect(await page.$('main .error'), l.href).toBeNull();
      const total = Number(await page.textContent('#total'));
      expect(total, l.href).toBe(l.n);
      // The first page holds min(n, 200) of them.
      expect(await page.$$eval('#findings tbody tr', (trs) => trs.length), l.href).toBe(Math.min(l.n, 200));
      seen.set(l.href, l.n);
    }
    // The trend's last point is the findings open now.
    const trend = await (async () => {
      await page.goto(`${base}/console`);
      return cells(page, 'trend-table');
    })();
    // Both match days, the last one's figure the findings open now (the links above checked the first one's).
    expect(trend.map((t) => t[0])).toEqual([LOADED, TODAY]);
    expect(trend.at(-1)).toEqual([TODAY, String(open)]);
    expect(Number(trend[0]![1])).toBeLessThan(open);
    await page.context().close();
  }, 180_000);

  it('draws its charts as inline SVG with the tables’ figures, within the CSP', async () => {
    const { page, violations } = await login();
    const byRule = await cells(page, 'by-rule');
    const ruleTexts = await svgTexts(page, 'chart-by-rule');
    expect(ruleTexts.filter((t) => /^R\d\d$/.test(t))).toEqual(byRule.map((r) => r[0]!.slice(0, 3)));
    expect(ruleTexts.filter((t) => /^\d+$/.test(t))).toEqual(byRule.map((r) => r[1]));

    const byDepartment = await cells(page, 'by-department');
    const depTexts = await svgTexts(page, 'chart-by-department');
    expect(depTexts).toEqual([...byDepartment.map((r) => r[0]), ...byDepartment.map((r) => r[1])]);

    const overdue = await cells(page, 'overdue-by-department');
    expect(overdue.length).toBeGreaterThan(0);
    expect(await svgTexts(page, 'chart-overdue')).toEqual([
      ...overdue.map((r) => r[0]),
      ...overdue.map((r) => r[1]),
    ]);

    // The grid: one cell per indicator and place of the table, labelled with its rate.
    const indicators = await cells(page, 'indicators');
    const gridRates = (await svgTexts(page, 'chart-indicators')).filter((t) => /%$|^—$/.test(t));
    expect(gridRates.sort()).toEqual(indicators.map((r) => r[5]!).sort());
    const colours = await page.$$eval('svg#chart-indicators path[fill]', (ps) =>
      ps.map((p) => p.getAttribute('fill')),
    );
    const statuses = new Set(indicators.map((r) => r[7]));
    for (const [status, colour] of [
      ['达标', '#8ce99a'],
      ['风险', '#ffe066'],
      ['未达标', '#ff8787'],
    ] as const) {
      expect(colours.includes(colour), status).toBe(statuses.has(status));
    }

    const trend = await cells(page, 'trend-table');
    const trendTexts = await svgTexts(page, 'trend');
    for (const [day, n] of trend) {
      expect(trendTexts).toContain(day!.slice(5));
      expect(trendTexts).toContain(n);
    }

    // Charts are SVG in the page (no image, no script); nothing in them needs an inline style the CSP blocks.
    expect(await page.$$eval('main figure.chart > svg', (s) => s.length)).toBe(5);
    expect(await page.$$eval('main svg [style], main svg style', (s) => s.length)).toBe(0);
    expect(await page.$$eval('script', (s) => s.length)).toBe(0);
    expect(
      await page.$eval(
        'svg#chart-by-rule text',
        (t) => t.ownerDocument.defaultView!.getComputedStyle(t).fontFamily,
      ),
    ).toContain('WenQuanYi Zen Hei');
    expect(violations).toEqual([]);
    expect(await englishIn(page)).toEqual([]);
    if (SCREENSHOTS) {
      mkdirSync(IMAGES, { recursive: true });
      await page.goto(`${base}/console`);
      await page.screenshot({ path: join(IMAGES, 'dashboard.png'), fullPage: true });
    }
    await page.context().close();
  });
});

describe('the findings browser', () => {
  it('pages through every finding exactly once, with page links and the total', async () => {
    const all = await base0().select('id').orderBy('rule_id').orderBy('id').execute();
    expect(all.length).toBeGreaterThan(400); // three pages at least
    const { page } = await login();
    await page.goto(`${base}/console/findings?state=all`);
    expect(Number(await page.textContent('#total'))).toBe(all.length);
    const pages = Math.ceil(all.length / 200);
    const shown: number[] = [];
    for (let p = 1; ; p++) {
      expect(await page.textContent('#pager strong')).toBe(String(p));
      shown.push(
        ...(await page.$$eval('#findings tbody tr td:first-child', (tds) =>
          tds.map((t) => Number(t.textContent)),
        )),
      );
      const next = await page.$('#pager a[rel=next]');
      if (!next) {
        expect(p).toBe(pages);
        break;
      }
      await Promise.all([page.waitForNavigation(), next.click()]);
    }
    expect(shown).toEqual(all.map((r) => Number(r.id)));
    expect(new Set(shown).size).toBe(all.length);
    await page.context().close();
  });

  it('filters by township, village and overdue from its drop-downs', async () => {
    const place = await base0()
      .select(['township', 'village'])
      .where('state', '<>', 'closed')
      .where('village', 'is not', null)
      .groupBy(['township', 'village'])
      .orderBy((eb) => eb.fn.countAll(), 'desc')
      .orderBy('township')
      .orderBy('village')
      .executeTakeFirstOrThrow();
    const { page } = await login();
    await page.goto(`${base}/console/findings`);
    await page.selectOption('#filter-township', place.township!);
    await Promise.all([page.waitForNavigation(), page.click('#filter button')]);
    const inTownship = await count((q) =>
      q.where('state', '<>', 'closed').where('township', '=', place.township),
    );
    expect(Number(await page.textContent('#total'))).toBe(inTownship);
    expect(new Set((await cells(page, 'findings')).map((r) => r[5]))).toEqual(new Set([place.township]));
    // The villages offered are the township's.
    const villages = await base0()
      .select('village')
      .distinct()
      .where('township', '=', place.township)
      .where('village', 'is not', null)
      .orderBy('village')
      .execute();
    expect(
      await page.$$eval('#filter-village option', (os) => os.map((o) => o.getAttribute('value'))),
    ).toEqual(['', ...villages.map((v) => v.village)]);
    await page.selectOption('#filter-village', place.village!);
    await page.selectOption('#filter-overdue', '1');
    await Promise.all([page.waitForNavigation(), page.click('#filter button')]);
    const ids = await base0()
      .select('id')
      .where('state', '<>', 'closed')
      .where('township', '=', place.township)
      .where('village', '=', place.village)
      .where('deadline', '<', TODAY)
      .orderBy('rule_id')
      .orderBy('id')
      .execute();
    expect(Number(await page.textContent('#total'))).toBe(ids.length);
    expect(
      await page.$$eval('#findings tbody tr td:first-child', (tds) => tds.map((t) => Number(t.textContent))),
    ).toEqual(ids.map((r) => Number(r.id)));
    await page.goto(`${base}/console/findings?township=${encodeURIComponent('无此乡')}`);
    expect(await page.textContent('main .error')).toBe('没有乡镇“无此乡”的疑点。请从下拉列表中选择。');
    expect(await englishIn(page)).toEqual([]);
    await page.context().close();
  });

  it('says each finding’s problem and links to the person by key', async () => {
    const r05 = await base0()
      .select(['id', 'details', 'id_number'])
      .where('rule_id', '=', 'R05')
      .where('state', '<>', 'closed')
      .orderBy('id')
      .executeTakeFirstOrThrow();
    const { page } = await login();
    await page.goto(`${base}/console/findings?rule=R05`);
    const row = (await cells(page, 'findings')).find((r) => r[0] === String(r05.id))!;
    const members = (r05.details as { members: number }).members;
    expect(row[7]).toBe(`家庭人口：${members}；问题：家庭无劳动能力成员且未纳入低保/特困`);
    expect(row[3]).toBe(maskIdNumber(r05.id_number!));

    const href = await page.$eval(
      `#findings tbody tr:has(td:first-child:text-is("${r05.id}")) a.person`,
      (a) => a.getAttribute('href')!,
    );
    expect(href).not.toContain(r05.id_number!);
    const key = await wh.db
      .selectFrom('persons')
      .select('person_key')
      .where('id_number', '=', r05.id_number!)
      .executeTakeFirstOrThrow();
    expect(href).toBe(
      `/console/persons?key=${key.person_key}&purpose=${encodeURIComponent(`核查疑点${r05.id}`)}`,
    );
    await Promise.all([page.waitForNavigation(), page.click(`a.person[href="${href}"]`)]);
    expect(await page.textContent('#person-id')).toBe(r05.id_number);
    const audit = await wh.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(audit.action).toBe('person.lookup');
    expect(audit.details).toMatchObject({ purpose: `核查疑点${r05.id}`, via: 'console' });
    if (SCREENSHOTS) await page.screenshot({ path: join(IMAGES, 'person.png'), fullPage: true });

    await page.goto(`${base}/console/findings`);
    // A clerk's 1280 px screen holds the whole row, the person link included.
    expect(await page.$eval('html', (h) => h.scrollWidth)).toBeLessThanOrEqual(1280);
    expect(await englishIn(page)).toEqual([]);
    if (SCREENSHOTS) await page.screenshot({ path: join(IMAGES, 'findings.png') });
    await page.context().close();
  });

  it('exports exactly the filtered findings, every page, masked, neutralized and audited', async () => {
    // A name a spreadsheet would run as a formula, on a finding the filter keeps.
    const department = '医保局';
    const target = await base0()
      .select('id')
      .where('department', '=', department)
      .where('state', '<>', 'closed')
      .orderBy('id')
      .executeTakeFirstOrThrow();
    await wh.db.updateTable('findings').set({ name: '=1+2' }).where('id', '=', target.id).execute();
    const expected = await base0()
      .select(['id', 'id_number'])
      .where('department', '=', department)
      .where('state', '<>', 'closed')
      .orderBy('rule_id')
      .orderBy('id')
      .execute();
    const { page } = await login();
    await page.goto(`${base}/console/findings?department=${encodeURIComponent(department)}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    expect(download.suggestedFilename()).toBe(`疑点-${TODAY}.csv`);
    const path = join(dir, 'export.csv');
    await download.saveAs(path);
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith('\uFEFF')).toBe(true);
    const [header, ...rows] = parse(text.slice(1)) as string[][];
    expect(header).toEqual([
      '编号',
      '规则',
      '部门',
      '身份证号',
      '姓名',
      '乡镇',
      '村',
      '问题',
      '状态',
      '首次发现',
      '时限',
    ]);
    expect(rows.map((r) => Number(r[0]))).toEqual(expected.map((e) => Number(e.id)));
    expect(rows.map((r) => r[3])).toEqual(
      expected.map((e) => (e.id_number ? maskIdNumber(e.id_number) : '')),
    );
    expect(new Set(rows.map((r) => r[2]))).toEqual(new Set([department]));
    expect(rows.find((r) => r[0] === String(target.id))![4]).toBe("'=1+2");
    const audit = await wh.db
      .selectFrom('audit_log')
      .select(['action', 'row_count', 'details'])
      .where('action', '=', 'findings.export')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(audit.row_count).toBe(expected.length);
    expect(audit.details).toMatchObject({
      via: 'console',
      format: 'csv',
      filter: { department, state: 'not_closed' },
    });
    await page.context().close();
  });
});
