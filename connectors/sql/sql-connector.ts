/**
 * Department databases (MySQL/MariaDB, PostgreSQL) as a connector. Reads one configured table:
 *  - names are checked against the source's catalog before any query is built, and quoted by the driver;
 *    values are always bound parameters;
 *  - keyset paging on (cursor, key…) or (key…) — never OFFSET, so a page costs the same at row 1 and 10M;
 *  - everything is read inside one read-only snapshot, including the upper bound of the cursor, so rows
 *    written during the read are neither half-seen nor lost;
 *  - incremental: rows with cursor ≥ the saved checkpoint (the boundary value is read again: rows that share
 *    it are never lost; the loader de-duplicates them by business key) up to the snapshot's maximum, which
 *    becomes the next checkpoint;
 *  - reconciliation of incremental reads, for rows that appear below the checkpoint (a transaction that set
 *    its cursor value before the last read's snapshot but committed after it; a back-dated entry):
 *    `lookback` starts each read that far below the checkpoint, and `full_every` makes every N-th read a full
 *    one. Rows read again that the warehouse already holds are counted unchanged, not loaded twice; missing
 *    ones load as new. The read's bounds go to the run's details.
 */
import { isUtf8 } from 'node:buffer';
import type { z } from 'zod';
import { configError } from '../../core/errors.ts';
import { type SqlConfig, SqlConfigSchema } from '../../schemas/sources.ts';
import type { CheckResult, Connector, ReadMessage, ReadOptions, StreamInfo } from '../connector.ts';
import { recordOf } from '../text-damage.ts';
import { openSession, type SqlSession } from './dialects.ts';

function urlOf(cfg: z.infer<typeof SqlConfigSchema>): string {
  const url = process.env[cfg.url_env];
  if (!url) throw configError(`${cfg.url_env} is not set: it must hold the ${cfg.dialect} connection string`);
  return url;
}

/** Text of a database value as a department file would show it (the loader normalizes text). */
function cellOf(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}

/**
 * Columns whose value came as bytes (BLOB, BINARY, VARBINARY: a department's system storing text without a
 * character set) that are not UTF-8: their text would hold U+FFFD the source does not. Text columns arrive
 * decoded by the driver from the server's own conversion, which the source database guarantees.
 */
const undecodable = (row: Record<string, unknown>, columns: readonly string[]) =>
  columns.flatMap((c, i) => {
    const v = row[c];
    return Buffer.isBuffer(v) && !isUtf8(v) ? [i] : [];
  });

async function checkedColumns(s: SqlSession, cfg: z.infer<typeof SqlConfigSchema>) {
  const all = await s.columns(cfg.table);
  if (!all.length) {
    const tables = await s.tables();
    throw configError(
      `${cfg.dialect}: no table '${cfg.table}'${cfg.schema ? ` in schema ${cfg.schema}` : ''}; tables: ${tables.slice(0, 30).join(', ') || '(none)'}`,
    );
  }
  const wanted = [...(cfg.columns ?? all), ...(cfg.cursor ? [cfg.cursor] : []), ...cfg.key];
  const unknown = wanted.filter((c) => !all.includes(c));
  if (unknown.length) {
    throw configError(
      `${cfg.dialect}: table '${cfg.table}' has no column ${unknown.join(', ')}; columns: ${all.join(', ')}`,
    );
  }
  return cfg.columns ?? all;
}

/**
 * The stored checkpoint. Plain: the cursor value. With `full_every`: JSON holding it and the number of reads
 * since the last full one (the loader stores it opaquely with the rows it covers, so a failed run counts none).
 */
interface Resume {
  cursor: string;
  /** null: not known (no checkpoint, or a plain one from before full_every was set): read in full. */
  sinceFull: number | null;
}

function resumeOf(saved: string): Resume {
  if (saved.startsWith('{')) {
    try {
      const o = JSON.parse(saved) as { cursor?: unknown; reads_since_full?: unknown };
      if (typeof o.cursor === 'string' && Number.isInteger(o.reads_since_full))
        return { cursor: o.cursor, sinceFull: o.reads_since_full as number };
    } catch {
      // not JSON: a cursor value that happens to start with '{'
    }
  }
  return { cursor: saved, sinceFull: null };
}

const DAY_MS = 86_400_000;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:([T ])(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * The checkpoint moved `lookback` down, in the checkpoint's own text form (so the source compares it with the
 * column as it compared the checkpoint): integers exactly (BigInt: row versions pass 2^53), date/time values
 * by calendar arithmetic on their fields, the zone suffix kept. Rounded down: the window is never shorter.
 */
export function lookbackFrom(cursor: string, lookback: number): string {
  if (/^-?\d+$/.test(cursor)) return String(BigInt(cursor) - BigInt(Math.ceil(lookback)));
  if (/^-?\d+\.\d+$/.test(cursor)) return String(Number(cursor) - lookback);
  const m = DATE_TIME.exec(cursor);
  if (!m) {
    throw configError(
      `lookback needs a numeric or date/time cursor; the checkpoint '${cursor.slice(0, 40)}' is neither`,
    );
  }
  const [, y, mo, d, sep, h, mi, sec, zone] = m;
  if (!sep)
    return new Date(Date.UTC(+y!, +mo! - 1, +d!) - Math.ceil(lookback) * DAY_MS).toISOString().slice(0, 10);
  const t = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +sec!) - Math.ceil((lookback * DAY_MS) / 1000) * 1000;
  const iso = new Date(t).toISOString();
  return `${iso.slice(0, 10)}${sep}${iso.slice(11, 19)}${zone ?? ''}`;
}

async function* readSql(config: SqlConfig, options: ReadOptions = {}): AsyncGenerator<ReadMessage> {
  const cfg = SqlConfigSchema.parse(config);
  const s = await openSession(cfg.dialect, urlOf(cfg), cfg.schema);
  const source = `${cfg.dialect}:${cfg.table}`;
  const saved = options.cursor !== undefined ? resumeOf(options.cursor) : null;
  // Full: a first read, or every full_every-th (counting this one); else from the checkpoint, less the lookback.
  const full =
    !saved ||
    (cfg.full_every !== undefined && (saved.sinceFull === null || saved.sinceFull + 1 >= cfg.full_every));
  const from =
    full || !saved ? undefined : cfg.lookback ? lookbackFrom(saved.cursor, cfg.lookback) : saved.cursor;
  try {
    const columns = await checkedColumns(s, cfg);
    const order = [...(cfg.cursor ? [cfg.cursor] : []), ...cfg.key.filter((k) => k !== cfg.cursor)];
    await s.beginSnapshot();
    let upper: unknown = null;
    if (cfg.cursor) {
      const [row] = await s.query(
        `SELECT MAX(${s.quote(cfg.cursor)}) AS upper FROM ${s.table(cfg.table)}`,
        [],
      );
      upper = row?.upper ?? null;
    }
    yield { type: 'header', columns, position: { source, row: 0 } };
    if (cfg.cursor && upper === null) return; // an empty table: nothing to read, the checkpoint stays
    const select = `SELECT ${[...new Set([...columns, ...order])].map((c) => s.quote(c)).join(', ')} FROM ${s.table(cfg.table)}`;
    const orderBy = ` ORDER BY ${order.map((c) => s.quote(c)).join(', ')} LIMIT ${cfg.page_size}`;
    let last: unknown[] | null = null;
    let n = 0;
    for (;;) {
      const where: string[] = [];
      const params: unknown[] = [];
      const p = (v: unknown) => {
        params.push(v);
        return s.param(params.length);
      };
      if (cfg.cursor) {
        where.push(`${s.quote(cfg.cursor)} <= ${p(upper)}`);
        if (from !== undefined) where.push(`${s.quote(cfg.cursor)} >= ${p(from)}`);
      }
      // Row-value comparison: the next page starts strictly after the last row of this one.
      if (last)
        where.push(`(${order.map((c) => s.quote(c)).join(', ')}) > (${last.map((v) => p(v)).join(', ')})`);
      const rows = await s.query(
        `${select}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${orderBy}`,
        params,
      );
      for (const r of rows) {
        n++;
        yield recordOf(
          columns.map((c) => cellOf(r[c])),
          { source, row: n },
          undecodable(r, columns),
        );
      }
      if (rows.length < cfg.page_size) break;
      const end = rows[rows.length - 1]!;
      last = order.map((c) => end[c]);
    }
    if (cfg.cursor) {
      const value = cellOf(upper)!;
      yield {
        type: 'checkpoint',
        cursor:
          cfg.full_every === undefined
            ? value
            : JSON.stringify({ cursor: value, reads_since_full: full ? 0 : (saved?.sinceFull ?? 0) + 1 }),
        read: full
          ? { mode: 'full', ...(saved ? { reason: `full_every ${cfg.full_every}` } : {}) }
          : { mode: 'incremental', from: from!, ...(cfg.lookback ? { lookback: cfg.lookback } : {}) },
      };
    }
  } finally {
    await s.close().catch(() => undefined);
  }
}

export const sqlConnector: Connector<SqlConfig> = {
  kind: 'sql',
  async check(config): Promise<CheckResult> {
    const cfg = SqlConfigSchema.parse(config);
    try {
      const s = await openSession(cfg.dialect, urlOf(cfg), cfg.schema);
      try {
        const columns = await checkedColumns(s, cfg);
        return { ok: true, message: `${cfg.dialect}:${cfg.table}: ${columns.length} columns readable` };
      } finally {
        await s.close();
      }
    } catch (err) {
      return { ok: false, message: (err as Error).message };
    }
  },
  async list(config): Promise<StreamInfo[]> {
    const cfg = SqlConfigSchema.parse(config);
    const s = await openSession(cfg.dialect, urlOf(cfg), cfg.schema);
    try {
      return (await s.tables()).map((name) => ({ name }));
    } finally {
      await s.close();
    }
  },
  read: readSql,
};
