import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../../schemas/config.ts';
import { configError, transientError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { startEmbedded } from './embedded.ts';
import type { Database } from './schema.ts';

// Dates stay calendar dates ('YYYY-MM-DD'), never shifted through a JS Date in the process time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);
// Counts and ids are bigint in SQL and far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface Warehouse {
  db: Kysely<Database>;
  pool: pg.Pool;
  schema: string;
  /** Where the warehouse lives, for messages: host/port/database, never the password. */
  where: string;
  embedded: boolean;
  /**
   * The connection string, password included, for an in-process connector reading another schema of the same
   * server (the demo's department database). Never log it.
   */
  connectionUrl?: () => string;
  close(): Promise<void>;
}

/** host:port/database of a connection string, for messages. The password never leaves this function. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparseable connection string)';
  }
}

/** This process's session name in pg_stat_activity; schedulers use it to tell live claims from dead ones. */
export const sessionName = (): string => `ruralhub:${process.pid}`;

/**
 * A pool whose sessions see `schema` first, so unqualified names resolve to the warehouse. Sessions are named
 * `ruralhub:<pid>` in pg_stat_activity, so an operator (or a test) can tell which process runs what.
 */
export function createPool(url: string, schema: string, max = 4): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    options: `-c search_path=${schema},public`,
    application_name: sessionName(),
  });
  // An idle connection the server closes (a restart, an embedded server stopping at exit) is emitted on the
  // pool; unhandled, it would crash the process. The next query on it fails with the real error instead.
  pool.on('error', () => undefined);
  return pool;
}

export function createDb(pool: pg.Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Opens the warehouse: the server named by the config's url_env variable, or an embedded server.
 * Connection failures are transient errors that name the host, never the password.
 */
export async function openWarehouse(config: Readonly<Config>, log: Logger): Promise<Warehouse> {
  const envName = config.database.url_env;
  let url = process.env[envName];
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (url !== undefined && url.trim() === '') throw configError(`${envName} is set but empty`);
  if (!url) {
    log.info({ data_dir: config.database.embedded.data_dir }, `no ${envName}: using embedded PostgreSQL`);
    // Shared by every ruralhub process on the same data folder (embedded.ts): started here, or attached to.
    const server = await startEmbedded({
      dataDir: config.database.embedded.data_dir,
      port: config.database.embedded.port,
      onNotice: (message) => log.info(message),
    });
    url = server.url;
    stopEmbedded = server.stop;
  }
  const schema = config.database.schema;
  const pool = createPool(url, schema);
  // An idle client's error (server restart) must not crash the process; the next query reports it.
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle database connection lost'));
  // pool.end() resolves once it has asked its clients to end, not when they have: stopping the embedded server
  // right then cut the last ones off ("terminating connection due to administrator command" in the log of
  // every other demo). So every open connection is tracked, and those still closing are awaited first.
  const open = new Set<Promise<void>>();
  pool.on('connect', (client) => {
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    open.add(ended);
    void ended.then(() => open.delete(ended));
  });
  const where = describeUrl(url);
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    await stopEmbedded?.();
    throw transientError(`cannot connect to PostgreSQL at ${where}: ${(err as Error).message}`, err);
  }
  const db = createDb(pool);
  return {
    db,
    pool,
    schema,
    where,
    embedded: stopEmbedded !== undefined,
    connectionUrl: () => url,
    async close() {
      await db.destroy();
      if (stopEmbedded) {
        await Promise.race([Promise.all(open), new Promise((r) => setTimeout(r, 2000).unref())]);
        await stopEmbedded();
      }
    },
  };
}
