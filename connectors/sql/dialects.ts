/**
 * The two database dialects a county's departments run (MySQL/MariaDB and PostgreSQL) behind one small
 * session interface: catalog lookup, a read-only consistent snapshot, parameterized queries, identifier
 * quoting by the driver. Connection strings come from environment variables and never appear in errors.
 */
import type { Connection } from 'mysql2/promise';
import pg from 'pg';
import { transientError } from '../../core/errors.ts';
import type { SqlDialect } from '../../schemas/vocab.ts';

export interface SqlSession {
  /** Column names of `table` in the connection's database/schema, in table order; [] when no such table. */
  columns(table: string): Promise<string[]>;
  tables(): Promise<string[]>;
  /** Starts a read-only transaction that sees one snapshot for all of its statements. */
  beginSnapshot(): Promise<void>;
  query(text: string, params: readonly unknown[]): Promise<Record<string, unknown>[]>;
  quote(identifier: string): string;
  /** The table, qualified as the dialect needs (PostgreSQL: with the configured schema). */
  table(name: string): string;
  /** Placeholder for the i-th (1-based) parameter. */
  param(i: number): string;
  close(): Promise<void>;
}

/** host:port/db of a connection string, for messages (never user or password). */
export function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '(default port)'}${u.pathname}`;
  } catch {
    return '(unparseable connection string)';
  }
}

export async function openSession(dialect: SqlDialect, url: string, schema?: string): Promise<SqlSession> {
  try {
    return dialect === 'mysql' ? await openMysql(url) : await openPostgres(url, schema);
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err as Error).name;
    throw transientError(`cannot connect to ${dialect} at ${where(url)} (${code})`);
  }
}

async function openMysql(url: string): Promise<SqlSession> {
  // Dates as text (no time-zone shifts), big numbers as text (no precision loss).
  // mysql2 is loaded only when a MySQL source is read (~0.4 s of every command's start otherwise).
  const { default: mysql } = await import('mysql2/promise');
  const c: Connection = await mysql.createConnection({
    uri: url,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  return {
    async columns(table) {
      const [rows] = await c.query(
        'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position',
        [table],
      );
      return (rows as { name: string }[]).map((r) => r.name);
    },
    async tables() {
      const [rows] = await c.query(
        'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1',
      );
      return (rows as { name: string }[]).map((r) => r.name);
    },
    async beginSnapshot() {
      await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      await c.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    },
    async query(text, params) {
      const [rows] = await c.query(text, params as unknown[]);
      return rows as Record<string, unknown>[];
    },
    quote: (id) => mysql.escapeId(id),
    table: (name) => mysql.escapeId(name),
    param: () => '?',
    async close() {
      await c.end();
    },
  };
}

async function openPostgres(url: string, schema?: string): Promise<SqlSession> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const inSchema = schema ?? (await c.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
  return {
    async columns(table) {
      const r = await c.query<{ name: string }>(
        'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
        [inSchema, table],
      );
      return r.rows.map((x) => x.name);
    },
    async tables() {
      const r = await c.query<{ name: string }>(
        'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
        [inSchema],
      );
      return r.rows.map((x) => x.name);
    },
    async beginSnapshot() {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    },
    async query(text, params) {
      return (await c.query(text, params as unknown[])).rows;
    },
    quote: (id) => c.escapeIdentifier(id),
    table: (name) => `${c.escapeIdentifier(inSchema)}.${c.escapeIdentifier(name)}`,
    param: (i) => `$${i}`,
    async close() {
      await c.end();
    },
  };
}
