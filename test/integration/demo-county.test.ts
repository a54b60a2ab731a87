import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { extname, join } from 'node:path';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorFor } from '../../connectors/registry.ts';
import { silentLogger } from '../../core/log.ts';
import { FEED_IDS } from '../../pipelines/feeds/index.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import { RULES } from '../../pipelines/rules/index.ts';
import { r01 } from '../../pipelines/rules/r01-school-dropout.ts';
import { r02 } from '../../pipelines/rules/r02-uninsured.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { exportLists, listHeaders } from '../../src/delivery/export-lists.ts';
import { DEPARTMENT_SCHEMA, serveDeathsFromDatabase } from '../../src/demo/department-db.ts';
import type { FileShape } from '../../src/demo/file-shape.ts';
import { type DemoCounty, generateDemoCounty } from '../../src/demo/generate.ts';
import { plantedRules } from '../../src/demo/planted.ts';
import { configuredSource, type ImportSummary, importFeed } from '../../src/load/import-feed.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import { headerDetector } from '../../src/normalize/header-map.ts';
import { loadRegions } from '../../src/regions/load-regions.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { tempDir } from '../support/files.ts';
import { expectBalancedLedger, expectLoaded } from '../support/loads.ts';
import { findingMoves, testWarehouse } from '../support/warehouse.ts';

const AS_OF = '2026-11-24';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
let wh: Warehouse;
const dir = tempDir('ruralhub-demo-');

beforeAll(async () => {
  wh = await testWarehouse('demo');
});
afterAll(async () => wh?.close());

async function loadAll(files: Partial<Record<string, string>>) {
  const out = [];
  for (const id of FEED_IDS) {
    const feed = resolveFeed(id);
    out.push(await importFeed({ wh, feed, path: files[id]!, log, today: AS_OF, timeZone: 'Asia/Shanghai' }));
  }
  return out;
}

/** The first bytes of a file: what the readers tell its format by. */
function magic(path: string): string {
  const b = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, b, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  return b.toString('hex');
}

/** Rows the file's reader skipped below the header, by reason, and the sheets its records came from. */
async function readShape(feedId: (typeof FEED_IDS)[number], path: string) {
  const skipped = { totals: 0, blank: 0, footer: 0 };
  const sheets = new Set<string>();
  let records = 0;
  for await (const m of connectorFor(path).read(
    { path },
    { isHeader: headerDetector(resolveFeed(feedId)) },
  )) {
    if (m.type === 'skipped') skipped[m.reason]++;
    else if (m.type === 'record') {
      records++;
      if (m.position.sheet !== undefined) sheets.add(m.position.sheet);
    }
  }
  return { records, skipped, sheets: [...sheets] };
}

const skippedRows = (shape: FileShape) => shape.skipped.totals + shape.skipped.blank + shape.skipped.footer;

async function openIds(rule: string): Promise<string[]> {
  const rows = await wh.db
    .selectFrom('findings')
    .select(['subject_key', 'subject_kind', 'department', 'id_number', 'name'])
    .where('rule_id', '=', rule)
    .where('state', '<>', 'closed')
    .orderBy('subject_key')
    .execute();
  // R13's items are about records, some without a usable ID: the generator names them by
  // department|kind|ID-or-name, since it cannot know the warehouse's subject keys for unlinkable rows.
  if (rule === 'R13')
    return rows.map((r) => `${r.department}|${r.subject_kind}|${r.id_number ?? r.name}`).sort();
  return rows.map((r) => r.subject_key);
}

describe('the demo county end to end', () => {
  it('finds exactly the injected cases of every rule the demo plants, no more and no fewer', async () => {
    const county = await generateDemoCounty({ dir, persons: 1500, seed: 11, asOf: AS_OF });
    expect(county.countyCode).toBe(config.county.code);

    // The region list is the whole province's, loaded as `ruralhub demo` and `regions load` do: the county's
    // subtree kept, the province, its cities and the other counties' townships and villages skipped and counted.
    const regions = await loadRegions(wh, county.regionsFile, config.county.code);
    const r = county.regionRows;
    expect(r).toMatchObject({ county: 1, township: 5, village: 30 });
    expect(r.above).toBeGreaterThanOrEqual(2); // a province and at least one city
    expect(r.otherCounties).toBeGreaterThanOrEqual(3); // a county, a township, a village at least
    expect(regions).toEqual({
      county_code: `${config.county.code}000000`,
      county_name: '示范县',
      read: r.county + r.township + r.village + r.above + r.otherCounties,
      loaded: r.county + r.township + r.village,
      skipped_above: r.above,
      skipped_outside: r.otherCounties,
      refused: 0,
      county: r.county,
      township: r.township,
      village: r.village,
    });
    const table = await wh.db.selectFrom('regions').select(['code', 'level']).execute();
    expect(table).toHaveLength(r.county + r.township + r.village);
    expect(table.filter((t) => !t.code.startsWith(config.county.code))).toEqual([]);

    const imports = await loadAll(county.files);
    for (const s of imports) expectLoaded(s);
    await expectShapes(county, imports);
    const outcomes = await runMatch({ wh, config, log, asOf: AS_OF });
    // The rules the demo plants cases for (its truth's entries) ran, and each has cases to find: one it declares
    // without a case is named. A rule it plants nothing for (a new one) is not asked for any.
    const planted = plantedRules(county.truth);
    expect(planted.size).toBeGreaterThan(0);
    const ran = outcomes.filter((o) => planted.has(o.rule)).map((o) => `${o.rule}:${o.status}`);
    expect(ran).toEqual([...planted.keys()].map((r) => `${r}:ran`));
    const missing = [...planted].filter(([, cases]) => cases.length === 0).map(([rule]) => rule);
    expect(missing, `the demo plants no case of ${missing.join(', ')}`).toEqual([]);
    // precision = recall = 1, rule by rule
    for (const [rule, cases] of planted) expect(await openIds(rule), rule).toEqual(cases);

    // The roster's two broken IDs and the roll's destroyed IDs were quarantined with their reasons.
    const q = await wh.db
      .selectFrom('quarantine')
      .select(['feed', 'problem'])
      .orderBy('feed')
      .orderBy('problem')
      .execute();
    expect(county.truth.quarantine.length).toBeGreaterThanOrEqual(3);
    expect(q).toEqual(county.truth.quarantine);
  });

  it('is idempotent: the same files again are no-op loads and the findings do not change', async () => {
    const county = await generateDemoCounty({ dir, persons: 1500, seed: 11, asOf: AS_OF });
    const imports = await loadAll(county.files);
    // CSV files and SheetJS's workbooks come out byte-identical: no-ops by content hash. The exceljs workbook
    // (housing) has new zip timestamps, so it is read again, and publishes nothing.
    for (const s of imports) {
      if (s.feed === 'housing') {
        expect(s).toMatchObject({
          status: 'succeeded',
          counts: { rows_new: 0, rows_changed: 0, rows_ended: 0 },
        });
      } else expect(s.status, s.feed).toBe('noop');
    }
    const outcomes = await runMatch({ wh, config, log, asOf: AS_OF });
    // Same loads, same reference date: a rule is a recorded no-op, and the findings stand. Only rules reading
    // the re-read workbook (housing) run again.
    for (const o of outcomes) {
      expect(o).toMatchObject({ new: 0, closed: 0, reopened: 0 });
      const rule = RULES[o.rule];
      const readsHousing = [...rule.requires, ...(rule.uses ?? [])].includes('housing');
      expect(o.status, o.rule).toBe(readsHousing ? 'ran' : 'unchanged');
    }
    const forced = await runMatch({ wh, config, log, asOf: AS_OF, force: true });
    for (const o of forced) expect(o).toMatchObject({ status: 'ran', new: 0, closed: 0, reopened: 0 });
    for (const [rule, cases] of plantedRules(county.truth)) expect(await openIds(rule), rule).toEqual(cases);
  });

  it('writes one workbook per owner department with exactly the disclosed columns and IDs as text', async () => {
    const files = await exportLists({ wh, outDir: join(dir, 'lists'), asOf: AS_OF, log });
    const owners = await wh.db.selectFrom('findings').select('department').distinct().execute();
    expect(files.map((f) => f.department).sort()).toEqual(owners.map((o) => o.department).sort());
    const edu = files.find((f) => f.department === '教育局')!;
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(edu.paths[0]!);
    const sheet = wb.worksheets.find((w) => w.name.startsWith('R01'))!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(header).toEqual(listHeaders(r01));
    const idCol = header.indexOf('身份证号') + 1;
    const ids: string[] = [];
    sheet.eachRow((row, n) => {
      if (n > 1) ids.push(row.getCell(idCol).value as string);
    });
    const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { R01: string[] };
    expect(ids.sort()).toEqual(truth.R01);
    // The R07 sheet sits in the same workbook: one workbook per department, one sheet per rule.
    expect(wb.worksheets.map((w) => w.name.slice(0, 3))).toEqual(['说明', 'R01', 'R07', 'R13']);
    expect(ids.every((id) => typeof id === 'string' && id.length === 18)).toBe(true);
    const health = files.find((f) => f.department === '医保局')!;
    const wb2 = new ExcelJS.Workbook();
    await wb2.xlsx.readFile(health.paths[0]!);
    expect(wb2.worksheets.map((w) => w.name)).toEqual([
      '说明',
      'R02 未参加基本医疗保险',
      'R03 资助参保未落实',
      'R10 死亡人员待遇未停',
    ]);
    expect((wb2.worksheets[1]!.getRow(1).values as unknown[]).slice(1)).toEqual(listHeaders(r02));

    // Exported items are now 'sent'; exporting again sends nothing twice.
    const sent = await findingMoves(wh, 'sent');
    await exportLists({ wh, outDir: join(dir, 'lists'), asOf: AS_OF, log });
    expect(await findingMoves(wh, 'sent')).toBe(sent);
    expect(sent).toBe(files.reduce((n, f) => n + f.items, 0));
  });

  it('closes findings the data no longer shows and reopens them when they come back', async () => {
    const [child] = await openIds('R02');
    const findings = () =>
      wh.db
        .selectFrom('findings')
        .select(['state', 'close_reason'])
        .where('rule_id', '=', 'R02')
        .where('subject_key', '=', child!)
        .executeTakeFirstOrThrow();
    // Week 2: the insurance file now has the person insured.
    const file = join(dir, 'insurance-week2.csv');
    const original = readFileSync(join(dir, 'insurance-参保登记.csv'), 'utf8');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, `${original}某某,${child},城乡居民,2026,正常参保,,示范县医保局\r\n`);
    await importFeed({
      wh,
      feed: resolveFeed('insurance'),
      path: file,
      log,
      today: AS_OF,
      timeZone: 'Asia/Shanghai',
    });
    await runMatch({ wh, config, log, asOf: '2026-12-01', rules: ['R02'] });
    expect(await findings()).toEqual({ state: 'closed', close_reason: 'data' });
    // Week 3: the original file again (the enrollment disappeared): the same item is reopened.
    await importFeed({
      wh,
      feed: resolveFeed('insurance'),
      path: join(dir, 'insurance-参保登记.csv'),
      log,
      today: AS_OF,
      timeZone: 'Asia/Shanghai',
      force: true,
    });
    await runMatch({ wh, config, log, asOf: '2026-12-08', rules: ['R02'] });
    expect(await findings()).toEqual({ state: 'reopened', close_reason: null });
    const events = await wh.db
      .selectFrom('finding_events as e')
      .innerJoin('findings as f', 'f.id', 'e.finding_id')
      .select(['e.from_state', 'e.to_state'])
      .where('f.subject_key', '=', child!)
      .where('f.rule_id', '=', 'R02')
      .orderBy('e.id')
      .execute();
    expect(events).toEqual([
      { from_state: null, to_state: 'open' },
      { from_state: 'open', to_state: 'sent' },
      { from_state: 'sent', to_state: 'closed' },
      { from_state: 'closed', to_state: 'reopened' },
    ]);
  });

  it('does not run a rule whose required feed is stale, and so closes nothing for lack of evidence', async () => {
    const before = await openIds('R02');
    const [o] = await runMatch({
      wh,
      config,
      log,
      asOf: '2026-12-15',
      rules: ['R02'],
      now: new Date(Date.now() + 60 * 86_400_000),
    });
    expect(o).toMatchObject({ status: 'skipped' });
    expect(o!.reason).toMatch(/feed roster is stale: last loaded 6\d days ago \(limit 45\)/);
    expect(await openIds('R02')).toEqual(before);
  });

  it("reads the deaths feed from the department's database as the demo does: the same rows as its file", async () => {
    const county = await generateDemoCounty({ dir: join(dir, 'db'), persons: 600, seed: 5, asOf: AS_OF });
    const cfg = await serveDeathsFromDatabase(wh, county.files.deaths!);
    const feed = resolveFeed('deaths');
    const read = () =>
      importFeed({
        wh,
        feed,
        source: configuredSource(feed, { source: cfg }),
        log,
        today: AS_OF,
        timeZone: 'Asia/Shanghai',
      });
    const fromDb = await read();
    expect(fromDb.status).toBe('succeeded');
    expect(fromDb.source).toBe(`postgres:${cfg.table}`);
    const lines = readFileSync(county.files.deaths!, 'utf8').trim().split('\n').length - 1;
    expect(fromDb.counts.rows_read).toBe(lines);
    expectBalancedLedger(fromDb.counts);
    // The cursor is saved: a second read takes only the rows at or after it, and changes nothing.
    const again = await read();
    expect(again.counts.rows_read).toBeLessThan(lines);
    expect(again.counts.rows_new + again.counts.rows_changed).toBe(0);
    await sql`DROP SCHEMA ${sql.id(DEPARTMENT_SCHEMA)} CASCADE`.execute(wh.db);
  });
});

/**
 * Every file loaded the rows the generator wrote, and skipped — in the ledger too — exactly the rows it wrote
 * below the table: the binary .xls and the SheetJS .xlsx among them, footer lines (制表人/审核人, 联系电话,
 * 填表说明) counted as skipped, never quarantined, and hidden sheets not read.
 */
async function expectShapes(county: DemoCounty, imports: readonly ImportSummary[]): Promise<void> {
  const runs = await wh.db
    .selectFrom('runs')
    .select(['id', 'rows_read', 'rows_skipped'])
    .where(
      'id',
      'in',
      imports.map((s) => s.runId),
    )
    .execute();
  for (const s of imports) {
    const feed = s.feed as (typeof FEED_IDS)[number];
    const shape = county.shapes[feed]!;
    const path = county.files[feed]!;
    expect(s.counts.rows_read, feed).toBe(shape.records);
    expect(s.counts.rows_skipped, feed).toBe(skippedRows(shape));
    const run = runs.find((x) => Number(x.id) === s.runId)!;
    expect([Number(run.rows_read), Number(run.rows_skipped)], feed).toEqual([
      shape.records,
      skippedRows(shape),
    ]);
    // Why each row was skipped, as the file's reader says.
    const read = await readShape(feed, path);
    expect({ records: read.records, skipped: read.skipped }, feed).toEqual(shape);
  }
  const byFeed = (id: string) => imports.find((s) => s.feed === id)!;
  /** Every record of a workbook loaded, none quarantined; skipped below the table: a totals row, three footer lines. */
  const expectWholeBelowTotals = (feed: 'disability' | 'water') => {
    expect(county.shapes[feed]!.skipped).toEqual({ totals: 1, blank: 0, footer: 3 });
    expect(byFeed(feed).counts).toMatchObject({
      rows_read: county.shapes[feed]!.records,
      rows_loaded: county.shapes[feed]!.records,
      rows_quarantined: 0,
      rows_skipped: 4,
    });
  };

  // The 残联 feed is a binary .xls (a BIFF8 compound file), its footer lines below the totals row.
  expect(extname(county.files.disability!)).toBe('.xls');
  expect(magic(county.files.disability!)).toBe('d0cf11e0');
  expectWholeBelowTotals('disability');
  expect(county.shapes.disability!.records).toBeGreaterThan(10);
  // 发证日期 came as date cells and loaded as dates.
  const issued = await sql<{ dated: number; all: number }>`
    SELECT count(issued_on)::int AS dated, count(*)::int AS all FROM disability WHERE valid_to IS NULL`.execute(
    wh.db,
  );
  expect(issued.rows[0]).toEqual({
    dated: county.shapes.disability!.records,
    all: county.shapes.disability!.records,
  });

  // The water bureau's .xlsx written by SheetJS: a 填表说明 sheet first, the data, two hidden sheets (one with the
  // header and last period's rows) that are not read.
  expect(extname(county.files.water!)).toBe('.xlsx');
  expect(magic(county.files.water!)).toBe('504b0304');
  const sheets = await connectorFor(county.files.water!).list({ path: county.files.water! });
  expect(sheets.map((x) => `${x.name}${x.hidden ? ' (hidden)' : ''}`)).toEqual([
    '填表说明',
    '排查台账',
    '上期台账 (hidden)',
    '下拉选项 (hidden)',
  ]);
  expect((await readShape('water', county.files.water!)).sheets).toEqual(['排查台账']);
  expectWholeBelowTotals('water');

  // A CSV with footer lines: the roll's totals line, a blank line and three footer lines.
  expect(county.shapes.student_roll!.skipped).toEqual({ totals: 1, blank: 1, footer: 3 });
  expect(byFeed('student_roll').counts.rows_skipped).toBe(5);
}
