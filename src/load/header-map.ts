/**
 * Maps a department's header row to the feed's canonical fields by aliases (the feed's reference aliases plus
 * the county's extra ones from config). Headers are compared after removing white space, full-width
 * parentheses and a trailing unit like "(元)", so 「身份证号 」「身份证号（必填）」 are found too.
 */
import type { FeedDefinition } from '../../schemas/feed.ts';
import { dataError } from '../errors.ts';

export interface HeaderMapping {
  /** canonical field → 0-based column index in the file */
  columns: Record<string, number>;
  /** File columns no field claimed (reported, not loaded). */
  unmapped: string[];
}

export function headerKey(h: string): string {
  return h
    .normalize('NFKC')
    .replace(/\s+/g, '')
    .replace(/\((必填|选填|元|单位:元)\)$/, '')
    .toLowerCase();
}

export function aliasesOf(feed: FeedDefinition, extra: Readonly<Record<string, readonly string[]>> = {}) {
  const out: Record<string, string[]> = {};
  for (const [field, spec] of Object.entries(feed.fields)) {
    out[field] = [...spec.aliases, ...(extra[field] ?? [])];
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
    .map(([f]) => new Set(aliases[f]!.map(headerKey)));
  return (cells: readonly string[]) => {
    const keys = new Set(cells.map(headerKey));
    return required.every((alts) => [...alts].some((a) => keys.has(a)));
  };
}

export function mapHeader(
  feed: FeedDefinition,
  header: readonly string[],
  source: string,
  extra: Readonly<Record<string, readonly string[]>> = {},
): HeaderMapping {
  const aliases = aliasesOf(feed, extra);
  const keys = header.map(headerKey);
  const columns: Record<string, number> = {};
  const missing: string[] = [];
  for (const [field, spec] of Object.entries(feed.fields)) {
    const idx = aliases[field]!.map(headerKey)
      .map((a) => keys.indexOf(a))
      .find((i) => i >= 0);
    if (idx !== undefined) columns[field] = idx;
    else if (spec.required) missing.push(`${field} (tried: ${aliases[field]!.join(', ')})`);
  }
  if (missing.length) {
    throw dataError(
      `${source}: required columns missing for feed ${feed.id}: ${missing.join('; ')}. ` +
        `Headers found: ${header.join(', ')}. Add the county's spelling under feeds.${feed.id}.header_aliases in the config.`,
    );
  }
  const claimed = new Set(Object.values(columns));
  return { columns, unmapped: header.filter((_, i) => !claimed.has(i) && header[i] !== '') };
}
