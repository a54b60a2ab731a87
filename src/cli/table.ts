import { displayWidth, isWide } from '../../core/chars.ts';
import { configError } from '../../core/errors.ts';

/** `s` cut to at most `width` display columns, ending in `…` when cut. */
export function truncateToWidth(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = isWide(ch) ? 2 : 1;
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

export interface TableOptions {
  /**
   * At most this many display columns a line: the `shrink` columns are cut (ending in `…`), in their order, down to
   * their header's width, and each left out when even that is too wide, before the next is touched.
   */
  width?: number;
  /** Headers of the text columns that may be cut or left out to fit `width`, least needed first (never a number's). */
  shrink?: readonly string[];
}

const GAP = 2;

/** A plain aligned text table for terminals (numbers right-aligned; an empty cell is nobody's number). */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly (string | number | null | undefined)[])[],
  opts: TableOptions = {},
): string {
  let cols = headers.map((_, i) => i);
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const natural = headers.map((h, i) =>
    Math.max(displayWidth(h), ...cells.map((r) => displayWidth(r[i] ?? ''))),
  );
  const widths = [...natural];
  if (opts.width !== undefined) {
    const limit = opts.width;
    const total = () => cols.reduce((n, i) => n + widths[i]!, 0) + GAP * Math.max(0, cols.length - 1);
    // In the order given: the first is cut down to its header's width, then left out, before the next is touched.
    for (const name of opts.shrink ?? []) {
      const i = headers.indexOf(name);
      if (i < 0 || !cols.includes(i) || total() <= limit) continue;
      widths[i] = Math.max(displayWidth(name), widths[i]! - (total() - limit));
      if (total() > limit) cols = cols.filter((c) => c !== i);
    }
  }
  const pad = (s: string, i: number, right: boolean) => {
    const shown = truncateToWidth(s, widths[i]!);
    const gap = ' '.repeat(widths[i]! - displayWidth(shown));
    return right ? gap + shown : shown + gap;
  };
  const numeric = headers.map(
    (_, i) => cells.length > 0 && cells.every((r) => /^-?[0-9.,]*$/.test(r[i] ?? '')),
  );
  const line = (r: readonly string[]) =>
    cols
      .map((i) => pad(r[i] ?? '', i, numeric[i]!))
      .join(' '.repeat(GAP))
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** The last line of a listing cut at `--limit`: how many rows it leaves out. */
export function moreLine(omitted: number): string {
  return `… ${omitted} more (use --limit)`;
}

/**
 * `--columns a,b,c` as the columns to show, in the order given; the command's default set when absent. An
 * unknown name is refused in one line listing the columns there are.
 */
export function parseColumns<C extends string>(
  value: string | undefined,
  available: readonly C[],
  defaults: readonly C[],
  /** Other names a column answers to (runs' `feed/rule` is `feed` in CSV and JSON). */
  aliases: Readonly<Record<string, C>> = {},
): C[] {
  if (value === undefined) return [...defaults];
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => (Object.hasOwn(aliases, s) ? aliases[s]! : s));
  if (names.length === 0) throw configError(`--columns: name at least one of ${available.join(', ')}`);
  const known = (s: string): s is C => (available as readonly string[]).includes(s);
  const unknown = names.filter((s) => !known(s));
  if (unknown.length > 0)
    throw configError(`--columns: unknown column '${unknown[0]}'; columns are ${available.join(', ')}`);
  return [...new Set(names.filter(known))];
}
