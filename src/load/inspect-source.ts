/**
 * What an operator setting up a new county needs to know about a department's file before the first import:
 * can it be opened, which sheets it has, where the header is, which column each field would be read from,
 * what is missing, and how many data rows there are. Reads the file the way an import does (same connector,
 * same header detection), writes nothing.
 */
import { basename } from 'node:path';
import type { TitleRow } from '../../connectors/connector.ts';
import { fileKindOf } from '../../connectors/registry.ts';
import { todayIn } from '../../core/clock.ts';
import { RuralHubError } from '../../core/errors.ts';
import type { FeedConfig } from '../../schemas/config.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { checkStatedDate, statedDataDate, statedWhere } from '../normalize/data-date.ts';
import { headerDetector, locateFields } from '../normalize/header-map.ts';
import { assertInputFile } from './import-feed.ts';

export interface SheetInspection {
  sheet: string | null;
  headerRow: number | null;
  header: readonly string[];
  /** field → the file's column header it would be read from (null: not found). */
  mapping: Record<string, string | null>;
  missingRequired: string[];
  unmapped: string[];
  rows: number;
  skipped: number;
  problems: number;
}

export interface SourceInspection {
  source: string;
  ok: boolean;
  message: string;
  sheets: SheetInspection[];
  /**
   * The data date the file states above its header (of the first sheet read) and where, or why an import would
   * refuse it (not a date, later than the load's day); null when it states none (an import takes the load's day).
   */
  dataDate: { date: string; where: string } | { error: string } | null;
}

export async function inspectSource(
  feed: FeedDefinition,
  path: string,
  feedConfig?: FeedConfig,
  only?: string | number,
  /** The load's local date, against which a stated date later than it is refused. */
  loadDay?: string,
): Promise<SourceInspection> {
  await assertInputFile(path);
  const source = basename(path);
  const { connector, workbook } = fileKindOf(path);
  const opened = await connector.check({ path });
  if (!opened.ok) return { source, ok: false, message: opened.message, sheets: [], dataDate: null };
  const extra = feedConfig?.header_aliases ?? {};
  const isHeader = headerDetector(feed, extra);
  const listed = workbook ? await connector.list({ path }) : [{ name: null, hidden: false }];
  // hidden sheets are read only when named, by an import as here
  const names = listed
    .filter((s) => !s.hidden || (only ?? feedConfig?.sheet) !== undefined)
    .map((s) => s.name);
  const wanted = only ?? feedConfig?.sheet;
  const sheets: SheetInspection[] = [];
  const titlesOf = new Map<SheetInspection, readonly TitleRow[]>();
  for (const [i, name] of names.entries()) {
    if (wanted !== undefined && wanted !== name && wanted !== i) continue;
    const s: SheetInspection = {
      sheet: name,
      headerRow: null,
      header: [],
      mapping: {},
      missingRequired: [],
      unmapped: [],
      rows: 0,
      skipped: 0,
      problems: 0,
    };
    try {
      for await (const m of connector.read(
        { path },
        { isHeader, ...(name === null ? {} : { sheet: name }) },
      )) {
        if (m.type === 'header') {
          s.header = m.columns;
          s.headerRow = m.position.row;
          if (m.titles) titlesOf.set(s, m.titles);
        } else if (m.type === 'record') s.rows++;
        else if (m.type === 'skipped') s.skipped++;
        else if (m.type === 'problem') s.problems++;
      }
    } catch (err) {
      if (!(err instanceof RuralHubError)) throw err;
      return { source, ok: false, message: err.message, sheets, dataDate: null };
    }
    const located = locateFields(feed, s.header, extra);
    for (const [field, spec] of Object.entries(feed.fields)) {
      const idx = located[field];
      s.mapping[field] = idx === undefined ? null : s.header[idx]!;
      if (idx === undefined && spec.required) s.missingRequired.push(field);
    }
    const used = new Set(Object.values(s.mapping).filter((h): h is string => h !== null));
    s.unmapped = s.header.filter((h) => h !== '' && !used.has(h));
    sheets.push(s);
  }
  // Without a sheet named, an import reads every sheet that has the header (xlsx connector): so does this.
  const good = sheets.filter((s) => s.missingRequired.length === 0);
  const one = good.length === 1 ? good[0]! : null;
  // As an import reads it: the first sheet with the header, its title rows.
  const stated = statedDataDate(good[0] ? titlesOf.get(good[0]) : undefined);
  const checked = stated ? checkStatedDate(stated, loadDay ?? todayIn('UTC')) : null;
  const dataDate =
    !stated || !checked
      ? null
      : 'error' in checked
        ? checked
        : { date: checked.date, where: statedWhere(stated.position) };
  return {
    source,
    dataDate,
    ok: good.length > 0 && !(dataDate && 'error' in dataDate),
    // only the sheets that are read: columns left unread on a 填表说明 sheet are no news
    sheets: good.length ? good : sheets,
    message: one
      ? `${source}${one.sheet ? ` sheet '${one.sheet}'` : ''}: header on row ${one.headerRow}, ${one.rows} data rows`
      : good.length
        ? `${source}: ${good.length} sheets with the header (${good
            .map((g) => `'${g.sheet}' row ${g.headerRow}: ${g.rows}`)
            .join(', ')}), ${good.reduce((n, g) => n + g.rows, 0)} data rows`
        : `${source}: no sheet has the required columns of ${feed.id} (${sheets
            .map((s) => `${s.sheet ?? 'file'} misses ${s.missingRequired.join(', ')}`)
            .join('; ')}); add the county's spelling under feeds.${feed.id}.header_aliases`,
  };
}
