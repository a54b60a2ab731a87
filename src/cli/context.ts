/**
 * What every command needs, built once per invocation: the validated config, a logger, and (for commands
 * that touch data) an open warehouse that is closed — and an embedded server stopped — when the command ends.
 */

import { isIsoDate, todayIn } from '../../core/clock.ts';
import { configError } from '../../core/errors.ts';
import { createLogger, type Logger } from '../../core/log.ts';
import { type CountyConfig, configPath, loadConfig } from '../config/load-config.ts';
// open.ts, not connect.ts: the query builder loads while the connection is made, not before (README, "Start-up").
import { openWarehouse } from '../warehouse/open.ts';
import type { Warehouse } from '../warehouse/pool.ts';

export interface GlobalOptions {
  config?: string;
  verbose?: boolean;
  logLevel?: string;
}

export interface Context {
  config: Readonly<CountyConfig>;
  log: Logger;
  /** Command output (tables, CSV, JSON) goes here; logs go to stderr. */
  out: NodeJS.WritableStream;
}

export function makeContext(g: GlobalOptions): Context {
  const log = createLogger({ level: g.logLevel ?? (g.verbose ? 'debug' : undefined) });
  const config = loadConfig(configPath(g.config));
  return { config, log, out: process.stdout };
}

/**
 * Opens the warehouse for the duration of `fn`. Schema handling: 'check' (default) refuses to work on an
 * out-of-date schema, 'auto' applies pending migrations first (the demo), 'none' leaves it to `fn`.
 */
export async function withWarehouse<T>(
  ctx: Context,
  fn: (wh: Warehouse) => Promise<T>,
  opts: { schema?: 'check' | 'auto' | 'none' } = {},
): Promise<T> {
  const mode = opts.schema ?? 'check';
  // The schema check (migrate.ts: the migrations' names, the feeds' declarations; the migrations themselves load
  // only when they run) is loaded while the connection is made, not before it: the same work, overlapped with the
  // server's answer (README, "Start-up").
  const migrations = mode === 'none' ? undefined : import('../warehouse/migrate.ts');
  // A failed connection leaves the import settled: no unhandled rejection besides the connection's error.
  migrations?.catch(() => {});
  const wh = await openWarehouse(ctx.config, ctx.log);
  try {
    if (mode === 'auto') await (await migrations!).migrate(wh.db, wh.schema);
    else if (mode === 'check') {
      const { expectFeedTablesMatch, pendingMigrations } = await migrations!;
      const pending = await pendingMigrations(wh.db, wh.schema);
      // Which warehouse: a variable named by url_env but not set in this shell means the embedded server, not
      // the one migrated (a new user's finding: the message sent them to migrate the wrong database).
      const { url_env: urlEnv, embedded } = ctx.config.database;
      const at = wh.embedded
        ? `the embedded server in ${embedded.data_dir}, as ${urlEnv} is not set`
        : wh.where;
      if (pending.length)
        throw configError(
          `the warehouse (schema ${wh.schema} on ${at}) needs migrations (${pending.join(', ')}): run \`ruralhub migrate\``,
        );
      await expectFeedTablesMatch(wh.db, wh.schema);
    }
    return await fn(wh);
  } finally {
    await wh.close();
  }
}

export function asOfDate(ctx: Context, explicit?: string): string {
  const d = explicit ?? ctx.config.matching.as_of ?? todayIn(ctx.config.timezone);
  if (!isIsoDate(d)) throw configError(`--as-of: expected a date as YYYY-MM-DD, got '${d}'`);
  return d;
}
