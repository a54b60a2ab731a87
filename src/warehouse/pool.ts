/**
 * The connection pool toward the warehouse (pg only: no query builder), its timeouts and its watchdog. Apart from
 * connect.ts (the module the rest of the project imports, which re-exports this) so that opening the warehouse
 * (open.ts) starts connecting before the query builder is loaded: kysely's ~0.5 MB compile while the server
 * answers, not before it asks (README, "Start-up").
 */
import type { Readable, Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { configError, RuralHubError, transientError } from '../../core/errors.ts';
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
 * Timeouts toward the database: no peer (a stalled network path, a hung proxy, a server that stopped
 * answering) may hold a command for ever. Each is configurable in seconds by its environment variable
 * (RURALHUB_DB_*); the defaults are generous: a 2M-row load's longest statement takes ~30 s.
 */
export interface DbTimeouts {
  /** RURALHUB_DB_CONNECT_TIMEOUT (30 s): TCP connect, TLS and authentication of a new connection. */
  connectMs: number;
  /**
   * RURALHUB_DB_STATEMENT_TIMEOUT (15 min): the sessions' statement_timeout, for any statement of any
   * command (matching, reports, the loader's bookkeeping).
   */
  statementMs: number;
  /**
   * RURALHUB_DB_LOAD_STATEMENT_TIMEOUT (10 min): statement_timeout of the loader's transactions (normalize,
   * link, pull in, plan, publish), set with SET LOCAL: ~20 times what a 2M-row load needs.
   */
  loadStatementMs: number;
  /** RURALHUB_DB_IDLE_IN_TRANSACTION_TIMEOUT (10 min): a session left idle inside a transaction is ended. */
  idleInTransactionMs: number;
  /**
   * RURALHUB_DB_COPY_STALL_TIMEOUT (2 min): a COPY whose bytes the database stops taking for this long is
   * abandoned. A COPY is not covered by the others: its statement lasts as long as its source (a slow API), and
   * the server waiting for input does not act on its statement_timeout until more input comes.
   */
  copyStallMs: number;
  /**
   * RURALHUB_DB_KEEPALIVE (30 s): TCP keepalive after this much silence, on both ends (the server's
   * tcp_keepalives_*), so a vanished peer ends its connection — and the server the session's locks.
   */
  keepAliveMs: number;
  /**
   * RURALHUB_DB_GRACE (30 s): how long past the server's own limit (statement_timeout) the client waits for an
   * answer before it declares the connection dead; also the bound on a failed run's cleanup statements.
   */
  graceMs: number;
}

export const DEFAULT_DB_TIMEOUTS: Readonly<DbTimeouts> = {
  connectMs: 30_000,
  statementMs: 15 * 60_000,
  loadStatementMs: 10 * 60_000,
  idleInTransactionMs: 10 * 60_000,
  copyStallMs: 2 * 60_000,
  keepAliveMs: 30_000,
  graceMs: 30_000,
};

const TIMEOUT_ENV: Record<keyof DbTimeouts, string> = {
  connectMs: 'RURALHUB_DB_CONNECT_TIMEOUT',
  statementMs: 'RURALHUB_DB_STATEMENT_TIMEOUT',
  loadStatementMs: 'RURALHUB_DB_LOAD_STATEMENT_TIMEOUT',
  idleInTransactionMs: 'RURALHUB_DB_IDLE_IN_TRANSACTION_TIMEOUT',
  copyStallMs: 'RURALHUB_DB_COPY_STALL_TIMEOUT',
  keepAliveMs: 'RURALHUB_DB_KEEPALIVE',
  graceMs: 'RURALHUB_DB_GRACE',
};

/** The defaults, overridden by the RURALHUB_DB_* variables set (seconds, decimals allowed), then by `given`. */
export function dbTimeouts(
  given: Partial<DbTimeouts> = {},
  env: NodeJS.ProcessEnv = process.env,
): DbTimeouts {
  const t: DbTimeouts = { ...DEFAULT_DB_TIMEOUTS };
  for (const key of Object.keys(TIMEOUT_ENV) as (keyof DbTimeouts)[]) {
    const raw = env[TIMEOUT_ENV[key]];
    if (raw === undefined || raw.trim() === '') continue;
    const seconds = Number(raw);
    if (!Number.isFinite(seconds) || seconds <= 0)
      throw configError(`${TIMEOUT_ENV[key]}: expected a positive number of seconds, got '${raw}'`);
    t[key] = Math.round(seconds * 1000);
  }
  return { ...t, ...given };
}

const timeoutsOf = new WeakMap<pg.Pool, DbTimeouts>();

/** The timeouts a pool was made with (createPool); the defaults for a pool made elsewhere. */
export const poolTimeouts = (pool: pg.Pool): DbTimeouts => timeoutsOf.get(pool) ?? dbTimeouts();

/**
 * `p`'s value, or undefined if it fails or once `ms` have passed: for cleanup after a fault, which must neither
 * wait on a database that is gone nor replace the fault with its own error.
 */
export function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.catch(() => undefined),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * A pool whose sessions see `schema` first, so unqualified names resolve to the warehouse. Sessions are named
 * `ruralhub:<pid>` in pg_stat_activity, so an operator (or a test) can tell which process runs what. Every
 * connection carries the timeouts (dbTimeouts) and a watchdog (watchClient).
 */
/**
 * Planner settings of every session, as `-c` startup options (also what a benchmark's psql gets, through
 * PGOPTIONS, to measure what the engine runs). No JIT: the rules' queries are large generated texts whose compile
 * costs more than it saves. R13 (thirteen feeds' names and ID facts in one UNION) makes 1,403 functions: on
 * PostgreSQL 15 with LLVM, 54 s of compilation summed over its parallel workers, the query 17.6–19.4 s with JIT and
 * 6.8–9.2 s without on a 1M-resident county — and the embedded server has no JIT provider, so with JIT on the same
 * plan was fast on one server and slow on the other. The loader turned JIT off for its statements for the same
 * reason (import-feed.ts, loadSettings).
 */
export const SESSION_PLANNER_OPTIONS: readonly string[] = ['-c jit=off'];

export function createPool(url: string, schema: string, max = 4, timeouts?: Partial<DbTimeouts>): pg.Pool {
  const t = dbTimeouts(timeouts);
  const sec = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
  // The connect timeout on the client, not the pool: the pool's would also limit the wait for a free
  // connection, which a long statement of the same command may legitimately hold.
  class TimedClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(typeof config === 'object' ? { ...config, connectionTimeoutMillis: t.connectMs } : config);
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max,
    Client: TimedClient,
    // Server side: the statement and idle-in-transaction limits; TCP keepalive and a check for a vanished
    // client during a long statement (PostgreSQL >= 14), so the server ends the session of a client that is
    // gone — releasing its locks, the feed's advisory lock among them — instead of holding it for hours.
    options: [
      `-c search_path=${schema},public`,
      ...SESSION_PLANNER_OPTIONS,
      `-c tcp_keepalives_idle=${sec(t.keepAliveMs)}`,
      '-c tcp_keepalives_interval=10',
      '-c tcp_keepalives_count=6',
      `-c client_connection_check_interval=${Math.min(10_000, t.keepAliveMs)}`,
    ].join(' '),
    statement_timeout: t.statementMs,
    idle_in_transaction_session_timeout: t.idleInTransactionMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: t.keepAliveMs,
    application_name: sessionName(),
  });
  timeoutsOf.set(pool, t);
  // An idle connection the server closes (a restart, an embedded server stopping at exit) is emitted on the
  // pool; unhandled, it would crash the process. The next query on it fails with the real error instead.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => watchClient(client, url, t));
  return pool;
}

/** What a watched query waits for. */
type Wait =
  | { kind: 'reply'; since: number }
  | { kind: 'copyIn'; stream: Writable; since: number; pending: number; endedAt: number | null }
  | { kind: 'copyOut'; stream: Readable; since: number };

/** statement_timeout set by a statement (`SET [LOCAL] statement_timeout = N`), as the watchdog follows it. */
const SET_TIMEOUT =
  /^\s*SET\s+(LOCAL\s+|SESSION\s+)?statement_timeout\s*(?:=|TO)\s*'?(\d+(?:\.\d+)?)\s*(ms|s|min)?'?\s*;?\s*$/i;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, min: 60_000 };

/**
 * A client-side watchdog on every connection of the pool. The server's limits cover a server that is slow, not
 * a path that stalls: a hung proxy or a frozen host acknowledges TCP (so keepalive is content) and never
 * answers. So: a statement without an answer for its statement_timeout plus the grace, a COPY whose bytes stop
 * draining for copyStallMs, a COPY TO that stops sending — end the connection with a transient error (which
 * reaches the query, its stream and every caller), and ask the server, on a fresh connection, to end the
 * session (its locks would otherwise outlive us). Every 'error' the client emits is handled here: on a
 * checked-out client (a COPY, the feed lock) nothing else listens, and an unhandled one crashes the process.
 */
function watchClient(client: pg.PoolClient, url: string, t: DbTimeouts): void {
  client.on('error', () => undefined); // the error reaches the query it broke; see above
  const socket = client.connection.stream;
  let lastRx = Date.now();
  let lastDrain = 0;
  let sessionLimit = t.statementMs;
  let localLimit: number | null = null;
  const waits = new Set<Wait>();
  // Polled, not a 'data' listener: pg-copy-streams' COPY TO insists on being the socket's only other one.
  let bytesRead = 0;
  const received = () => {
    const n: unknown = Reflect.get(socket, 'bytesRead');
    if (typeof n === 'number' && n !== bytesRead) {
      bytesRead = n;
      lastRx = Date.now();
    }
  };
  socket.on('drain', () => {
    lastDrain = Date.now();
  });
  let dead = false;
  const abandon = (reason: string) => {
    if (dead) return;
    dead = true;
    clearInterval(timer);
    const pid: unknown = Reflect.get(client, 'processID');
    socket.destroy(transientError(reason));
    if (typeof pid === 'number') void terminateSession(url, pid, t);
  };
  const limit = () => {
    const l = localLimit ?? sessionLimit;
    return l === 0 ? Number.POSITIVE_INFINITY : l;
  };
  const tick = Math.max(50, Math.min(1000, Math.floor(Math.min(t.copyStallMs, t.graceMs) / 4)));
  const timer = setInterval(() => {
    received();
    const now = Date.now();
    for (const w of waits) {
      if (w.kind === 'copyIn') {
        if (w.endedAt === null && w.stream.writableEnded) w.endedAt = now;
        // Bytes not yet taken by the database: buffered in the COPY stream (before the server accepts the
        // COPY) or in the socket (the kernel's buffers full).
        const pending = w.stream.writableLength + socket.writableLength;
        if (pending === 0 || pending < w.pending || lastDrain > w.since) w.since = now;
        w.pending = pending;
        if (now - w.since > t.copyStallMs) {
          abandon(
            `the database took no COPY data for ${Math.round((now - w.since) / 1000)} s ` +
              `(${TIMEOUT_ENV.copyStallMs}); the connection was given up`,
          );
        } else if (pending === 0 && w.endedAt !== null) {
          const waited = now - Math.max(w.endedAt, lastRx);
          if (waited > t.statementMs + t.graceMs) abandon(noAnswer(waited, t));
        }
      } else if (w.kind === 'copyOut') {
        // Paused: the reader is slow, not the database.
        if (w.stream.isPaused() || socket.isPaused()) w.since = now;
        const waited = now - Math.max(w.since, lastRx);
        if (waited > limit() + t.graceMs) abandon(noAnswer(waited, t));
      } else {
        const waited = now - Math.max(w.since, lastRx);
        if (waited > limit() + t.graceMs) abandon(noAnswer(waited, t));
      }
    }
  }, tick);
  timer.unref();
  client.once('end', () => clearInterval(timer));

  // Every query passes here (kysely, pool.query, the loader's own clients and COPY streams).
  const submit = client.query.bind(client) as (...args: unknown[]) => unknown;
  const watched = (...args: unknown[]): unknown => {
    const first = args[0];
    const text = typeof first === 'string' ? first : textOf(first);
    if (text !== undefined) follow(text);
    const since = Date.now();
    if (isSubmittable(first)) {
      const w: Wait | null =
        'writableLength' in first && typeof first.write === 'function'
          ? { kind: 'copyIn', stream: first as unknown as Writable, since, pending: 0, endedAt: null }
          : 'isPaused' in first && typeof first.isPaused === 'function'
            ? { kind: 'copyOut', stream: first as unknown as Readable, since }
            : null;
      if (w) {
        waits.add(w);
        const done = () => waits.delete(w);
        w.stream.once('finish', done).once('end', done).once('error', done).once('close', done);
      }
      return submit(...args);
    }
    const w: Wait = { kind: 'reply', since };
    waits.add(w);
    const done = () => void waits.delete(w);
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (...result: unknown[]) => {
        done();
        return (callback as (...r: unknown[]) => unknown)(...result);
      };
      return submit(...args);
    }
    const result = submit(...args);
    if (result instanceof Promise) result.then(done, done);
    else done();
    return result;
  };
  /** The statement_timeout a statement sets, for the deadline of the next ones. */
  const follow = (text: string) => {
    const set = SET_TIMEOUT.exec(text);
    if (set) {
      const ms = Number(set[2]) * (UNIT_MS[(set[3] ?? 'ms').toLowerCase()] ?? 1);
      if (set[1]?.trim().toLowerCase() === 'local') localLimit = ms;
      else sessionLimit = ms;
    } else if (/^\s*RESET\s+(statement_timeout|ALL)\b/i.test(text)) sessionLimit = t.statementMs;
    else if (/^\s*(COMMIT|ROLLBACK|END|ABORT)\b/i.test(text)) localLimit = null;
  };
  // The instance's own property: pg's Client has no hook around a query.
  Object.defineProperty(client, 'query', { value: watched, writable: true, configurable: true });
}

const noAnswer = (waited: number, t: DbTimeouts) =>
  `the database did not answer for ${Math.round(waited / 1000)} s (statement_timeout plus ` +
  `${Math.round(t.graceMs / 1000)} s: ${TIMEOUT_ENV.statementMs}, ${TIMEOUT_ENV.graceMs}); the connection was given up`;

function isSubmittable(v: unknown): v is { submit: unknown; [k: string]: unknown } {
  return typeof v === 'object' && v !== null && typeof (v as { submit?: unknown }).submit === 'function';
}

function textOf(v: unknown): string | undefined {
  const text = typeof v === 'object' && v !== null ? (v as { text?: unknown }).text : undefined;
  return typeof text === 'string' ? text : undefined;
}

/**
 * Asks the server to end the session of a connection given up on (best effort, bounded): a stalled session
 * keeps its locks — a staging table's, the feed's advisory lock — until the server notices the client is gone.
 * Only a session of this process (its application_name), never another's that took the pid since.
 */
async function terminateSession(url: string, pid: number, t: DbTimeouts): Promise<void> {
  const c = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: t.connectMs,
    statement_timeout: t.graceMs,
    application_name: sessionName(),
  });
  c.on('error', () => undefined);
  try {
    await within(
      (async () => {
        await c.connect();
        await c.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1 AND application_name = $2',
          [pid, sessionName()],
        );
      })(),
      t.connectMs + t.graceMs,
    );
  } catch {
    // the database is unreachable too: its keepalive ends the session
  } finally {
    c.end().catch(() => undefined);
  }
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/**
 * A lost or stalled connection, a server shutting down, a statement over its time limit: a transient
 * RuralHubError naming the fault (exit 75: worth retrying later), or null for anything else.
 */
export function databaseFault(err: unknown): RuralHubError | null {
  if (err instanceof RuralHubError) return err.kind === 'transient' ? err : null;
  if (!(err instanceof Error)) return null;
  const code = (err as { code?: unknown }).code;
  const what = (m: string) => transientError(m, err);
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return what(`lost the database connection (${code}: ${err.message})`);
    // 57014 is a statement cancelled: by its statement_timeout, or by an operator.
    if (code === '57014')
      return what(
        `${err.message} (${TIMEOUT_ENV.statementMs} / ${TIMEOUT_ENV.loadStatementMs} raise the limits)`,
      );
    // Connection exceptions, the server shutting down or ending the session (admin, idle-in-transaction,
    // idle session), too many connections, a lock not available in time.
    if (/^08|^57P0/.test(code) || ['25P03', '53300', '55P03'].includes(code))
      return what(`database: ${err.message}`);
  }
  if (/^Connection terminated|not queryable|^timeout expired|Query read timeout/.test(err.message))
    return what(`lost the database connection: ${err.message}`);
  return null;
}
