/**
 * `ruralhub regions load FILE.csv`: the county's region table from a published statistical division code list
 * (行政区划代码, 名称, 级别, 上级代码), taken as published — CSV or a workbook, read by the connector of its
 * file kind (connectors/registry.ts) as an import reads a department's file. The list may be the county's own
 * or its whole province's: rows above the county (省, 市) and rows of other counties are skipped and counted,
 * and what remains — the configured county and the townships and villages under it — must be sound: 12-digit
 * codes, a level (stated as a word or 1–5, or read off the code when 级别 is blank), a parent one level up in
 * the list, no code twice. Any refused row, named by file, row and field, loads nothing, so the table is never
 * left with a hole that would quarantine real households as region_unknown; otherwise the county's rows
 * replace the table in one transaction.
 */
import { basename } from 'node:path';
import { sql } from 'kysely';
import { connectorFor } from '../../connectors/registry.ts';
import { dataError } from '../../core/errors.ts';
import { REGION_LEVEL_WORDS, REGION_LEVELS, type RegionLevel } from '../../schemas/vocab.ts';
import { headerKey } from '../normalize/header-map.ts';
import type { Warehouse } from '../warehouse/connect.ts';

const COLUMNS = {
  code: ['行政区划代码', '区划代码', '统计用区划代码', '代码'],
  name: ['名称', '区划名称', '单位名称'],
  level: ['级别', '层级', '区划级别'],
  parent: ['上级代码', '上级区划代码', '父级代码'],
} as const;
type Column = keyof typeof COLUMNS;
const FIELD: Record<Column, string> = {
  code: '行政区划代码',
  name: '名称',
  level: '级别',
  parent: '上级代码',
};

/** Every level a published list carries; only the county and below are the table's. */
const LIST_LEVELS = ['province', 'city', ...REGION_LEVELS] as const;
type ListLevel = (typeof LIST_LEVELS)[number];
const LEVEL_NAME: Record<ListLevel, string> = {
  province: '省',
  city: '市',
  county: '县',
  township: '乡',
  village: '村',
};

/**
 * 级别 spellings beyond the table's own vocabulary (schemas/vocab.ts): the levels above the county, the
 * numeric levels some editions use (1=省 … 5=村), and the ethnic-autonomous and special forms.
 */
const EXTRA_WORDS: Record<ListLevel, readonly string[]> = {
  province: ['province', '省', '自治区', '直辖市', '省级', '1'],
  city: ['city', '市', '地级市', '自治州', '州', '地区', '盟', '地级', '2'],
  county: ['自治县', '自治旗', '林区', '特区', '区县', '3'],
  township: ['民族乡', '民族镇', '乡镇街道', '4'],
  village: ['村民委员会', '居民委员会', '5'],
};
const LEVEL_OF = new Map<string, ListLevel>(
  LIST_LEVELS.flatMap((l) =>
    [...(l === 'province' || l === 'city' ? [] : REGION_LEVEL_WORDS[l]), ...EXTRA_WORDS[l]].map(
      (w) => [headerKey(w), l] as const,
    ),
  ),
);
const PARENT_LEVEL: Record<RegionLevel, RegionLevel | null> = {
  county: null,
  township: 'county',
  village: 'township',
};
const CODE = /^[0-9]{12}$/;

/**
 * The level a 12-digit code's shape says: the last segment (province 2, city 2, county 2, township 3,
 * village 3) that is not all zeros. Null when a zero segment stands before a non-zero one (a township
 * directly under a city, say): the shape then does not say it unambiguously.
 */
function levelOfCode(code: string): ListLevel | null {
  const segments = [code.slice(0, 2), code.slice(2, 4), code.slice(4, 6), code.slice(6, 9), code.slice(9)];
  const last = segments.findLastIndex((s) => !/^0+$/.test(s));
  if (last < 0 || segments.slice(0, last).some((s) => /^0+$/.test(s))) return null;
  return LIST_LEVELS[last] ?? null;
}

export interface RegionRow {
  code: string;
  name: string;
  level: RegionLevel;
  parent_code: string | null;
}

/**
 * What became of the list's rows: read = loaded + skipped_above + skipped_outside + refused. A load that
 * returns has refused nothing (a refusal throws, with the same counts in its message).
 */
export interface RegionCounts extends Record<RegionLevel, number> {
  /** The county whose subtree was kept: its 12-digit code and its name in the list. */
  county_code: string;
  county_name: string;
  read: number;
  loaded: number;
  skipped_above: number;
  skipped_outside: number;
  refused: number;
}

interface Parsed {
  row: number;
  code: string;
  name: string;
  levelCell: string;
  parent: string;
  /** The stated level, or the code's when 级别 is blank; null when neither says one. */
  level: ListLevel | null;
}

/**
 * Reads and checks a code list. `county` is the configured 6-digit county code; without it the list must
 * hold exactly one county (a county's own list), which is then the one kept.
 */
export async function readRegions(
  path: string,
  county?: string,
): Promise<{ rows: RegionRow[]; counts: RegionCounts }> {
  const source = basename(path);
  const keys = Object.fromEntries(Object.entries(COLUMNS).map(([k, a]) => [k, a.map(headerKey)])) as Record<
    Column,
    string[]
  >;
  const isHeader = (cells: readonly string[]) => {
    const h = cells.map(headerKey);
    return keys.code.some((a) => h.includes(a)) && keys.name.some((a) => h.includes(a));
  };
  const refusals: { row: number; text: string }[] = [];
  const refuse = (row: number, field: Column | null, text: string) =>
    refusals.push({ row, text: `${source} row ${row}${field ? `, ${FIELD[field]}` : ''}: ${text}` });

  let col: Partial<Record<Column, number>> = {};
  const parsed: Parsed[] = [];
  let read = 0;
  for await (const m of connectorFor(path).read({ path }, { isHeader })) {
    if (m.type === 'header') {
      const h = m.columns.map(headerKey);
      col = Object.fromEntries(
        Object.entries(keys)
          .map(([k, a]) => [k, a.map((x) => h.indexOf(x)).find((i) => i >= 0)])
          .filter(([, i]) => i !== undefined),
      );
      // 级别 may be missing: the code's shape then says the level.
      const missing = (['code', 'name', 'parent'] as const).filter((k) => col[k] === undefined);
      if (missing.length) {
        throw dataError(
          `${source}: columns missing: ${missing.map((k) => COLUMNS[k][0]).join(', ')} (found: ${m.columns.join(', ')})`,
        );
      }
    } else if (m.type === 'problem') {
      read++;
      refuse(m.position.row, null, m.detail);
    } else if (m.type === 'record') {
      read++;
      const cell = (k: Column) => {
        const i = col[k];
        return i === undefined ? '' : (m.cells[i] ?? '').trim();
      };
      const code = cell('code');
      if (!CODE.test(code)) {
        // Without a code the row cannot be placed in or out of the county, so it is never silently skipped.
        refuse(m.position.row, 'code', `'${code}', expected a 12-digit code`);
        continue;
      }
      const levelCell = cell('level');
      const shape = levelOfCode(code);
      let level: ListLevel | null = levelCell ? (LEVEL_OF.get(headerKey(levelCell)) ?? null) : shape;
      // A county-level city is written 市 in some editions, like the prefecture above it: its code tells.
      if (level === 'city' && shape === 'county') level = 'county';
      parsed.push({
        row: m.position.row,
        code,
        name: cell('name'),
        levelCell,
        parent: cell('parent'),
        level,
      });
    }
  }

  const prefix = county ?? onlyCounty(source, parsed);
  const countyCode = `${prefix}000000`;
  const inCounty: Parsed[] = [];
  let above = 0;
  let outside = 0;
  for (const p of parsed) {
    // Outside the county a row's level only decides which count it joins: an unknown word falls back on the
    // code's shape instead of refusing a row that would not be loaded anyway.
    const level = p.level ?? levelOfCode(p.code);
    if (p.code.startsWith(prefix)) inCounty.push(p);
    else if (level === 'province' || level === 'city') above++;
    else outside++;
  }

  if (!inCounty.some((p) => p.code === countyCode)) {
    throw dataError(
      `${source}: no row for the county ${countyCode}${inCounty.length ? '' : ' and none under it'}, nothing loaded (${read} rows read: ${above} above the county, ${outside} of other counties, ${inCounty.length} under ${prefix}, ${refusals.length} refused)`,
    );
  }

  const byCode = new Map<string, Parsed>();
  const rows: (RegionRow & { row: number })[] = [];
  for (const p of inCounty) {
    const first = byCode.get(p.code);
    if (first) {
      refuse(p.row, 'code', `${p.code} again (first on row ${first.row}), expected each code once`);
      continue;
    }
    byCode.set(p.code, p);
    const shape = levelOfCode(p.code);
    if (!p.name) refuse(p.row, 'name', 'empty, expected the region name');
    else if (!p.level && !p.levelCell)
      refuse(p.row, 'level', `empty, and ${p.code} does not show its level: expected 县, 乡 or 村 (or 3–5)`);
    else if (!p.level)
      refuse(
        p.row,
        'level',
        `'${p.levelCell}', expected a county, township or village level (县/乡/村 or 3–5)`,
      );
    else if (p.level === 'province' || p.level === 'city' || shape !== p.level)
      refuse(
        p.row,
        'level',
        `'${p.levelCell || '(empty)'}' (${LEVEL_NAME[p.level]}) but ${p.code} is a ${shape ? `${LEVEL_NAME[shape]}-level` : 'malformed'} code, expected level and code to agree`,
      );
    else if (p.level !== 'county' && p.parent && !CODE.test(p.parent))
      refuse(p.row, 'parent', `'${p.parent}', expected a 12-digit code`);
    else
      rows.push({
        code: p.code,
        name: p.name,
        level: p.level,
        // The county's own parent (its city) stays outside the table, which holds one county's subtree.
        parent_code: p.level === 'county' ? null : p.parent || null,
        row: p.row,
      });
  }
  for (const r of rows) {
    const want = PARENT_LEVEL[r.level];
    if (!want) continue;
    const parent = r.parent_code ? byCode.get(r.parent_code) : undefined;
    if (!r.parent_code) refuse(r.row, 'parent', `empty, expected the code of its ${want}`);
    else if (!parent)
      refuse(
        r.row,
        'parent',
        r.parent_code.startsWith(prefix)
          ? `${r.parent_code} is not in the list, expected the code of its ${want}`
          : `${r.parent_code} is outside the county ${countyCode}, expected the code of its ${want}`,
      );
    // A parent refused for its own level is reported on its row; its children are not blamed for it.
    else if (parent.level && parent.level !== want)
      refuse(
        r.row,
        'parent',
        `${r.parent_code} is a ${LEVEL_NAME[parent.level]}-level row (row ${parent.row}), expected its ${want}`,
      );
  }

  if (refusals.length) {
    const refused = new Set(refusals.map((r) => r.row));
    const fine = inCounty.filter((p) => !refused.has(p.row)).length;
    refusals.sort((a, b) => a.row - b.row);
    const shown = refusals.slice(0, 50).map((r) => r.text);
    if (refusals.length > shown.length) shown.push(`… and ${refusals.length - shown.length} more`);
    throw dataError(
      `${source}: ${refused.size} row(s) refused, nothing loaded (${read} rows read: ${fine} fine under ${countyCode}, ${above} skipped above the county, ${outside} skipped outside it, ${refused.size} refused)\n${shown.join('\n')}`,
    );
  }
  const counts: RegionCounts = {
    county_code: countyCode,
    county_name: rows.find((r) => r.level === 'county')?.name ?? '',
    read,
    loaded: rows.length,
    skipped_above: above,
    skipped_outside: outside,
    refused: 0,
    county: 0,
    township: 0,
    village: 0,
  };
  for (const r of rows) counts[r.level]++;
  return { rows: rows.map(({ row: _row, ...r }) => r), counts };
}

/** Without a configured county, the list's single county-level row names it. */
function onlyCounty(source: string, parsed: readonly Parsed[]): string {
  const counties = [...new Set(parsed.filter((p) => p.level === 'county').map((p) => p.code.slice(0, 6)))];
  if (counties.length === 1) return counties[0]!;
  throw dataError(
    counties.length
      ? `${source}: the list holds ${counties.length} counties (${counties.slice(0, 5).join(', ')}${counties.length > 5 ? ', …' : ''}): the configured county decides which is loaded`
      : `${source}: no county-level row (级别 县/区 or 3), nothing loaded`,
  );
}

export async function loadRegions(wh: Warehouse, path: string, county?: string): Promise<RegionCounts> {
  const { rows, counts } = await readRegions(path, county);
  await wh.db.transaction().execute(async (trx) => {
    await sql`DELETE FROM regions`.execute(trx);
    for (let i = 0; i < rows.length; i += 1000)
      await trx
        .insertInto('regions')
        .values(rows.slice(i, i + 1000))
        .execute();
  });
  return counts;
}
