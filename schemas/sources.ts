/**
 * The config of each source kind: what a county writes under `feeds.<feed>.source` for a department database
 * or HTTP API that is read instead of files. The connector of the kind (connectors/<kind>/) reads exactly this
 * config; connectors/registry.ts pairs each kind with its connector.
 *
 * A source names its kind (`kind: sql`, `kind: http`). Configs written before `kind` existed name none and are
 * told by their shape, as they always were: a `dialect` is a database, a `url` an API.
 *
 * Example:
 * ```yaml
 * feeds:
 *   deaths:
 *     source: { kind: sql, dialect: mysql, url_env: GA_DB_URL, table: death_reg, cursor: updated_at, key: [id] }
 * ```
 */
import { z } from 'zod';
import { SQL_DIALECTS } from './vocab.ts';

const envName = (what: string) =>
  z.string().regex(/^[A-Z_][A-Z0-9_]*$/, `an environment variable name (the ${what} itself never goes here)`);

/**
 * A department database table (MySQL/MariaDB, PostgreSQL), read by connectors/sql/ with keyset paging inside
 * one read-only snapshot; incremental with `cursor`.
 */
export const SqlConfigSchema = z
  .object({
    kind: z.literal('sql').optional(),
    dialect: z.enum(SQL_DIALECTS),
    /** Environment variable holding the connection string (it carries the password). */
    url_env: envName('URL'),
    /** PostgreSQL schema of the table (default: the connection's current schema). */
    schema: z.string().min(1).optional(),
    table: z.string().min(1),
    /** Columns to read (default: all). */
    columns: z.array(z.string().min(1)).optional(),
    /** Incremental sources: the column whose value only grows (update time, settlement date). */
    cursor: z.string().min(1).optional(),
    /**
     * With `cursor`: each read starts this far below the checkpoint — days (fractions allowed) for a date or
     * time cursor, the cursor's own units for a numeric one — so rows committed late with an older cursor
     * value are still read.
     */
    lookback: z.number().positive().optional(),
    /** With `cursor`: every N-th read reads the whole table (up to the snapshot's maximum), loading any row missed. */
    full_every: z.number().int().min(1).optional(),
    /** Columns that make a row unique, for keyset paging. */
    key: z.array(z.string().min(1)).min(1),
    page_size: z.number().int().min(1).max(100_000).default(5000),
    /**
     * The column holding the date the data describes (an export date, a 统计日期): the load's data date is the
     * latest date in it among the rows read (--data-date wins; without this, the load's day).
     */
    data_date_column: z.string().min(1).optional(),
  })
  .strict()
  .refine((c) => c.cursor !== undefined || (c.lookback === undefined && c.full_every === undefined), {
    message: 'lookback and full_every reconcile incremental reads: they need a cursor',
    path: ['cursor'],
  });
export type SqlConfig = z.input<typeof SqlConfigSchema>;

/** A paged HTTP/JSON API, read by connectors/http/: paging, token, retries, totals and `since` as below. */
export const HttpConfigSchema = z
  .object({
    kind: z.literal('http').optional(),
    url: z.url({ protocol: /^https?$/ }),
    token_env: envName('token').optional(),
    /**
     * Instead of token_env: a program (and its arguments; no shell) that prints a fresh token on stdout, run
     * at the start of a read and again when the token expires during it.
     */
    token_command: z.array(z.string().min(1)).min(1).optional(),
    paging: z.discriminatedUnion('kind', [
      z
        .object({
          kind: z.literal('page'),
          page_param: z.string().default('page'),
          size_param: z.string().default('size'),
          size: z.number().int().min(1).max(10_000).default(500),
          first: z.number().int().min(0).default(1),
        })
        .strict(),
      z
        .object({
          kind: z.literal('offset'),
          offset_param: z.string().default('offset'),
          limit_param: z.string().default('limit'),
          limit: z.number().int().min(1).max(10_000).default(500),
        })
        .strict(),
      z
        .object({
          kind: z.literal('cursor'),
          cursor_param: z.string().default('cursor'),
          next_field: z.string().default('next_cursor'),
        })
        .strict(),
    ]),
    /** Field of the response holding the array of records. */
    records_field: z.string().default('data'),
    /** For page/offset paging: the response field that says whether more pages follow (true = more). */
    more_field: z.string().default('has_more'),
    /**
     * The response field holding how many records the whole read returns: it must be the same on every page
     * and equal the records read, else the read fails.
     */
    total_field: z.string().optional(),
    /** Incremental APIs: the query parameter taking the checkpoint, and the record field it is compared with. */
    since_param: z.string().optional(),
    cursor_field: z.string().optional(),
    /** Columns in order (default: the keys of the first record). */
    fields: z.array(z.string()).optional(),
    timeout_ms: z.number().int().min(100).default(30_000),
    max_attempts: z.number().int().min(1).max(10).default(5),
    backoff_ms: z.number().int().min(1).default(500),
    /** Longest Retry-After (429, 503) waited for; an API that asks for longer fails the read as transient. */
    retry_after_max_ms: z.number().int().min(0).default(120_000),
    /**
     * The record field holding the date the data describes (an export date, a 统计日期): the load's data date is the
     * latest date in it among the records read (--data-date wins; without this, the load's day).
     */
    data_date_column: z.string().min(1).optional(),
  })
  .strict()
  .refine((c) => !(c.token_env && c.token_command), {
    message: 'token_env or token_command, not both',
    path: ['token_command'],
  });
export type HttpConfig = z.input<typeof HttpConfigSchema>;

/**
 * Every source kind's config with its `kind` — the one list of source kinds: a new kind adds its schema here
 * (and its connector to connectors/registry.ts, which the type checker then asks for).
 */
const NAMED_SOURCES = z.discriminatedUnion('kind', [
  SqlConfigSchema.safeExtend({ kind: z.literal('sql') }),
  HttpConfigSchema.safeExtend({ kind: z.literal('http') }),
]);
export type SourceKind = z.output<typeof NAMED_SOURCES>['kind'];
const KINDS: readonly SourceKind[] = NAMED_SOURCES.options.map((o) => o.shape.kind.value);

type KindOptional<T> = T extends { kind: infer K } ? Omit<T, 'kind'> & { kind?: K } : never;
/** A source config as its connector takes it: `kind` may be left out (see sourceKindOf). */
export type SourceConfig = KindOptional<z.input<typeof NAMED_SOURCES>>;
export type SourceConfigOf<K extends SourceKind> = Extract<SourceConfig, { kind?: K }>;

const isKind = (v: unknown): v is SourceKind =>
  typeof v === 'string' && (KINDS as readonly string[]).includes(v);

/**
 * The kind of a source config: its `kind`, else its shape — the key only one kind has, for the configs written
 * before `kind` existed (a `dialect` is a database, a `url` an API). A new kind needs no shape: it is named.
 * Undefined when neither says.
 */
export function sourceKindOf(cfg: object): SourceKind | undefined {
  if ('kind' in cfg) return isKind(cfg.kind) ? cfg.kind : undefined;
  if ('dialect' in cfg) return 'sql';
  if ('url' in cfg) return 'http';
  return undefined;
}

/**
 * `feeds.<feed>.source`: one of the kinds, told by `kind` or by shape; the parsed config always carries its
 * kind. An error names the key of the kind it is (`feeds.deaths.source.table: …`), or `kind` with the kinds
 * there are when neither `kind` nor the shape says one.
 */
export const SourceConfigSchema = z.preprocess((v) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || 'kind' in v) return v;
  const kind = sourceKindOf(v);
  return kind ? { kind, ...v } : v;
}, NAMED_SOURCES);
