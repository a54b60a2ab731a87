/**
 * `ruralhub regions load FILE.csv`: the county's region table from a file in the shape of the published
 * statistical division code lists (行政区划代码, 名称, 级别, 上级代码). The file is the whole table: it is
 * validated completely first — 12-digit codes, a known level, a parent that exists one level up, no code
 * twice — and then replaces the table in one transaction; a file with any bad row loads nothing and every
 * bad row is reported with its row number.
 */
import { basename } from 'node:path';
import { sql } from 'kysely';
import { csvConnector } from '../../connectors/csv/csv-connector.ts';
import { REGION_LEVEL_WORDS, REGION_LEVELS, type RegionLevel } from '../../schemas/vocab.ts';
import { dataError } from '../errors.ts';
import { headerKey } from '../load/header-map.ts';
import type { Warehouse } from '../warehouse/connect.ts';

const COLUMNS = {
  code: ['行政区划代码', '区划代码', '统计用区划代码', '代码'],
  name: ['名称', '区划名称', '单位名称'],
  level: ['级别', '层级', '区划级别'],
  parent: ['上级代码', '上级区划代码', '父级代码'],
} as const;

const LEVEL_OF = new Map<string, RegionLevel>(
  REGION_LEVELS.flatMap((l) => REGION_LEVEL_WORDS[l].map((w) => [headerKey(w), l] as const)),
);
const PARENT_LEVEL: Record<RegionLevel, RegionLevel | null> = {
  county: null,
  township: 'county',
  village: 'township',
};

export interface RegionRow {
  code: string;
  name: string;
  level: RegionLevel;
  parent_code: string | null;
}

export async function readRegions(path: string): Promise<RegionRow[]> {
  const source = basename(path);
  const keys = Object.fromEntries(Object.entries(COLUMNS).map(([k, a]) => [k, a.map(headerKey)])) as Record<
    keyof typeof COLUMNS,
    string[]
  >;
  const isHeader = (cells: readonly string[]) => {
    const h = cells.map(headerKey);
    return keys.code.some((a) => h.includes(a)) && keys.name.some((a) => h.includes(a));
  };
  let col: Partial<Record<keyof typeof COLUMNS, number>> = {};
  const rows: (RegionRow & { row: number })[] = [];
  const errors: string[] = [];
  for await (const m of csvConnector.read({ path }, { isHeader })) {
    if (m.type === 'header') {
      const h = m.columns.map(headerKey);
      col = Object.fromEntries(
        Object.entries(keys)
          .map(([k, a]) => [k, a.map((x) => h.indexOf(x)).find((i) => i >= 0)])
          .filter(([, i]) => i !== undefined),
      );
      const missing = (['code', 'name', 'level', 'parent'] as const).filter((k) => col[k] === undefined);
      if (missing.length) {
        throw dataError(
          `${source}: columns missing: ${missing.map((k) => COLUMNS[k][0]).join(', ')} (found: ${m.columns.join(', ')})`,
        );
      }
    } else if (m.type === 'problem') errors.push(`row ${m.position.row}: ${m.detail}`);
    else if (m.type === 'record') {
      const cell = (k: keyof typeof COLUMNS) => (m.cells[col[k]!] ?? '').trim();
      const where = `row ${m.position.row}`;
      const code = cell('code');
      const level = LEVEL_OF.get(headerKey(cell('level')));
      const parent = cell('parent') || null;
      if (!/^[0-9]{12}$/.test(code)) errors.push(`${where}, 行政区划代码: '${code}' is not a 12-digit code`);
      else if (!cell('name')) errors.push(`${where}, 名称: empty`);
      else if (!level)
        errors.push(`${where}, 级别: '${cell('level')}' is not a county, township or village level`);
      else if (parent !== null && !/^[0-9]{12}$/.test(parent))
        errors.push(`${where}, 上级代码: '${parent}' is not a 12-digit code`);
      else rows.push({ code, name: cell('name'), level, parent_code: parent, row: m.position.row });
    }
  }
  const byCode = new Map<string, (typeof rows)[number]>();
  for (const r of rows) {
    if (byCode.has(r.code))
      errors.push(`row ${r.row}, 行政区划代码: ${r.code} already on row ${byCode.get(r.code)!.row}`);
    else byCode.set(r.code, r);
  }
  for (const r of rows) {
    const want = PARENT_LEVEL[r.level];
    if (!want) continue;
    const parent = r.parent_code ? byCode.get(r.parent_code) : undefined;
    if (!parent) errors.push(`row ${r.row}, 上级代码: ${r.parent_code ?? '(empty)'} is not in the file`);
    else if (parent.level !== want)
      errors.push(`row ${r.row}, 上级代码: ${r.parent_code} is a ${parent.level}, expected a ${want}`);
  }
  if (errors.length) {
    throw dataError(
      `${source}: ${errors.length} bad row(s), nothing loaded: ${errors.slice(0, 20).join('; ')}${errors.length > 20 ? '; …' : ''}`,
    );
  }
  return rows.map(({ row: _row, ...r }) => r);
}

export async function loadRegions(wh: Warehouse, path: string): Promise<Record<RegionLevel, number>> {
  const rows = await readRegions(path);
  await wh.db.transaction().execute(async (trx) => {
    await sql`DELETE FROM regions`.execute(trx);
    for (let i = 0; i < rows.length; i += 1000)
      await trx
        .insertInto('regions')
        .values(rows.slice(i, i + 1000))
        .execute();
  });
  const counts = { county: 0, township: 0, village: 0 };
  for (const r of rows) counts[r.level]++;
  return counts;
}
