/**
 * Opening the warehouse, for a command: connect.ts re-exports it. Apart from the query builder (db.ts), which it
 * loads while the connection is being made (README, "Start-up").
 */
import { configError, transientError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Config } from '../../schemas/config.ts';
import { startEmbedded } from './embedded.ts';
import { createPool, describeUrl, poolTimeouts, type Warehouse, within } from './pool.ts';

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
  // The query builder (~0.5 MB of kysely to compile) is loaded while the server sets the session up, not before
  // the connection is asked for: ~15 ms of a command's start off, on the 2-core development machine.
  const builder = import('./db.ts');
  builder.catch(() => undefined);
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
  let db: Awaited<ReturnType<typeof import('./db.ts').createDb>>;
  try {
    db = (await builder).createDb(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    await stopEmbedded?.();
    throw err;
  }
  return {
    db,
    pool,
    schema,
    where,
    embedded: stopEmbedded !== undefined,
    connectionUrl: () => url,
    async close() {
      // A connection stuck on a stalled peer is never handed back, and the pool's end waits for every one: the
      // command ends anyway (its own error already says what happened).
      await within(db.destroy(), poolTimeouts(pool).graceMs);
      if (stopEmbedded) {
        await Promise.race([Promise.all(open), new Promise((r) => setTimeout(r, 2000).unref())]);
        await stopEmbedded();
      }
    },
  };
}
