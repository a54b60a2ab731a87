/**
 * Maps a department's header row to the feed's canonical fields by aliases (the feed's reference aliases plus
 * the county's extra ones from config). Headers are compared after removing white space, full-width
 * parentheses and a trailing unit like "(元)", so 「身份证号 」「身份证号（必填）」 are found too.
 */

import { dataError } from '../../core/errors.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { maskIdsInText } from './mask.ts';

export interface HeaderMapping {
  /** canonical field → 0-based column index in the file */
  columns: Record<string, number>;
  /** File columns no field claimed (reported, not loaded). */
  unmapped: string[];
  /**
   * canonical field → its header cell as the file spelled it (「身份证号（必填）」, 「户别」): what a message about a
   * value names, so that the department finds the column it wrote. Kept in the run's details (runs.details.headers).
   */
  headers: Record<string, string>;
}

export function headerKey(h: string): string {
  return h
    .normalize('NFKC')
    .replace(/\s+/g, '')
    .replace(/^[*※★☆]+|[*※★☆]+$/g, '') // 「*姓名」「★姓名」: required-field markers of government templates
    .replace(/^[【[](必填|选填|必录)[】\]]|[【[](必填|选填|必录)[】\]]$/g, '')
    .replace(/[:：]$/, '')
    .replace(/\((必填|选填|元|单位:元)\)$/, '')
    .toLowerCase();
}

/**
 * A looser key, tried only when no header matches an alias exactly: any trailing note in parentheses goes
 * (「身份证号(18位)」「参保年度(年)」), so an explanatory suffix a county adds does not hide the column.
 */
export function looseHeaderKey(h: string): string {
  return headerKey(h).replace(/(\([^()]*\)|\[[^[\]]*\])+$/, '');
}

/** Column index of the first alias found among the header keys: exact keys first, then loose ones. */
function findColumn(aliases: readonly string[], keys: readonly string[], loose: readonly string[]) {
  for (const a of aliases) {
    const i = keys.indexOf(headerKey(a));
    if (i >= 0) return i;
  }
  for (const a of aliases) {
    const k = looseHeaderKey(a);
    const i = k === '' ? -1 : loose.indexOf(k);
    if (i >= 0) return i;
  }
  return undefined;
}

export function aliasesOf(feed: FeedDefinition, extra: Readonly<Record<string, readonly string[]>> = {}) {
  const out: Record<string, string[]> = {};
  for (const [field, spec] of Object.entries(feed.fields)) {
    out[field] = [...new Set([...spec.aliases, ...(extra[field] ?? [])])];
  }
  return out;
}

/** A row is the header when it holds an alias of every required field (title rows hold none). */
export function headerDetector(
  feed: FeedDefinition,
  extra: Readonly<Record<string, readonly string[]>> = {},
) {
  const aliases = aliasesOf(feed, extra);
  const required = Object.entries(feed.fields)
    .filter(([, s]) => s.required)
    .map(([f]) => aliases[f]!);
  return (cells: readonly string[]) => {
    const keys = cells.map(headerKey);
    const loose = cells.map(looseHeaderKey);
    return required.every((alts) => findColumn(alts, keys, loose) !== undefined);
  };
}

/** canonical field → 0-based column of the header, for the fields found (the first matching alias wins). */
export function locateFields(
  feed: FeedDefinition,
  header: readonly string[],
  extra: Readonly<Record<string, readonly string[]>> = {},
): Record<string, number> {
  const aliases = aliasesOf(feed, extra);
  const keys = header.map(headerKey);
  const loose = header.map(looseHeaderKey);
  const columns: Record<string, number> = {};
  for (const field of Object.keys(feed.fields)) {
    const idx = findColumn(aliases[field]!, keys, loose);
    if (idx !== undefined) columns[field] = idx;
  }
  return columns;
}

export function mapHeader(
  feed: FeedDefinition,
  header: readonly string[],
  source: string,
  extra: Readonly<Record<string, readonly string[]>> = {},
): HeaderMapping {
  const aliases = aliasesOf(feed, extra);
  const columns = locateFields(feed, header, extra);
  const missing = Object.entries(feed.fields)
    .filter(([field, spec]) => spec.required && columns[field] === undefined)
    .map(([field]) => `${field} (tried: ${aliases[field]!.join(', ')})`);
  if (missing.length) {
    throw dataError(
      `${source}: required columns missing for feed ${feed.id}: ${missing.join('; ')}. ` +
        // The row taken for the header may be a record (a file without one): its IDs are masked like any shown.
        `Headers found: ${maskIdsInText(header.join(', '))}. Add the county's spelling under feeds.${feed.id}.header_aliases in the config.`,
    );
  }
  const claimed = new Set(Object.values(columns));
  const headers = Object.fromEntries(
    Object.entries(columns).map(([field, i]) => [field, (header[i] ?? '').trim() || field]),
  );
  return { columns, unmapped: header.filter((_, i) => !claimed.has(i) && header[i] !== ''), headers };
}
