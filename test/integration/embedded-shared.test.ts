/**
 * One embedded server per data folder, shared by real processes: `serve` starts it and other commands attach;
 * commands started at once start it once; a server orphaned by kill -9 of its owner is adopted and stopped by
 * the next command, and one killed with it (a stale postmaster.pid) is started afresh; as root, a folder the
 * `postgres` user cannot enter is refused in one line.
 *
 * These tests run the CLI without DATABASE_URL, each on its own data folder (not the suite's shared server).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../support/cli.ts';
import { testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';

const isRoot = process.getuid?.() === 0;
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** The CLI's environment: no DATABASE_URL, so the embedded server in the config's folder is used. */
function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, RURALHUB_LOG_LEVEL: 'info' };
  delete env.DATABASE_URL;
  return env;
}

/** A folder with a config whose data folder is in it; as root, one the `postgres` user can enter. */
function folder(prefix: string): { dir: string; config: string; data: string } {
  const dir = tempDir(prefix);
  if (isRoot) chmodSync(dir, 0o755);
  const data = join(dir, 'pg');
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `county: { name: 示范县, code: "520102" }
database: { embedded: { data_dir: "${data}" } }
scheduler: { jobs: { lists-yearly: { kind: lists, cron: "0 8 1 1 *" } } }
`,
  );
  return { dir, config, data };
}

/** `ruralhub scheduler` as a service (its one job does not fall due during the test). */
const scheduler = (config: string) => longRunning(config, ['scheduler'], 'scheduler started');

const cli = (config: string, ...args: string[]) =>
  runCli(['--config', config, ...args], { env: cliEnv(), timeoutMs: 120_000 });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** The pid of the folder's running server, from its postmaster.pid. */
const postmaster = (data: string): number | undefined =>
  existsSync(join(data, 'postmaster.pid'))
    ? Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
    : undefined;

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A long-running command (`serve`, `scheduler`), resolved once it runs: `ready` is a text its output shows
 * then.
 */
async function longRunning(
  config: string,
  args: readonly string[],
  ready: string,
): Promise<ChildProcess & { done: Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, '--config', config, ...args], {
    env: cliEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  const read = (d: string) => {
    out += d;
  };
  child.stdout?.setEncoding('utf8').on('data', read);
  child.stderr?.setEncoding('utf8').on('data', read);
  const done = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await until(`${args[0]} to run`, () => out.includes(ready) || child.exitCode !== null, 60_000);
  if (child.exitCode !== null) throw new Error(`${args[0]} exited ${child.exitCode}: ${out}`);
  return Object.assign(child, { done });
}

/** The files beside the data folder once nobody uses it: the password stays, nothing else. */
const leftBeside = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('pg.') && f !== 'pg.secret');

describe('the embedded server, shared by processes on one data folder', () => {
  it('serve owns it; tokens, findings, status and an import attach from other processes; it stops with serve', async () => {
    const { dir, config, data } = folder('ruralhub-shared-');
    // Before migrate: the message names the warehouse that needs it — the embedded one, and why it is the one.
    const early = await cli(config, 'runs');
    expect(early.code).toBe(2);
    expect(early.stderr).toContain(
      `on the embedded server in ${data}, as DATABASE_URL is not set) needs migrations`,
    );
    const m = await cli(config, 'migrate');
    expect(m.code, m.stderr).toBe(0);
    expect(postmaster(data)).toBeUndefined(); // migrate started it and stopped it again

    const s = await longRunning(config, ['serve', '--port', '0'], 'serving on');
    const pid = postmaster(data)!;
    expect(alive(pid)).toBe(true);
    const state = join(dir, 'pg.server.json');
    expect(statSync(state).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'pg.secret')).mode & 0o777).toBe(0o600);

    const roster = writeCsv(join(dir, 'roster.csv'), [
      ['户编号', '姓名', '证件号码', '与户主关系', '户类型'],
      ['H1', '张三', testId(1), '户主', '监测户'],
      ['H2', '李四', testId(2), '户主', '监测户'],
    ]);
    const [token, findings, status, imported] = await Promise.all([
      cli(config, 'tokens', 'create', '--role', 'bureau', '--label', 'shared-test'),
      cli(config, 'findings'),
      cli(config, 'status'),
      cli(config, 'import', 'roster', '--file', roster, '--as-of', '2026-11-24'),
    ]);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout).toMatch(/^rh_/);
    expect(findings.code, findings.stderr).toBe(0);
    expect(status.stderr).not.toMatch(/did not start|postmaster\.pid/);
    expect([0, 1]).toContain(status.code); // 1: unhealthy feeds, the verdict of a nearly empty warehouse
    expect(imported.code, imported.stderr).toBe(0);
    for (const r of [token, findings, status, imported]) {
      expect(r.stderr).toContain('already running');
      expect(r.stderr).not.toContain(readFileSync(join(dir, 'pg.secret'), 'utf8').trim());
    }
    // The same server all along, still serving, and only serve still attached.
    expect(postmaster(data)).toBe(pid);
    expect(JSON.parse(readFileSync(state, 'utf8'))).toEqual({ owner: s.pid, users: [s.pid] });
    const listed = await cli(config, 'tokens', 'list', '--format', 'json');
    expect(listed.stdout).toContain('shared-test');

    s.kill('SIGTERM');
    expect([0, 143]).toContain(await s.done);
    await until('the server to stop', () => !alive(pid), 10_000);
    expect(postmaster(data)).toBeUndefined();
    expect(leftBeside(dir)).toEqual(['pg.log']);
  }, 240_000);

  it('commands started at once on a stopped server start it once', async () => {
    const { dir, config, data } = folder('ruralhub-race-');
    const runs = await Promise.all([cli(config, 'migrate'), cli(config, 'migrate'), cli(config, 'migrate')]);
    // One of them initialises the folder and starts the server; the others wait for it and attach (their
    // migrations then find nothing to apply, or wait for the first's lock on the schema).
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(runs.filter((r) => r.stderr.includes('already running')).length).toBeGreaterThanOrEqual(1);
    expect(postmaster(data)).toBeUndefined();
    expect(leftBeside(dir)).toEqual(['pg.log']);
  }, 180_000);

  it('after kill -9 of the owner (a scheduler) the next command adopts the orphaned server and stops it; a stale postmaster.pid is recovered', async () => {
    const { dir, config, data } = folder('ruralhub-orphan-');
    expect((await cli(config, 'migrate')).code).toBe(0);

    // The owner dies, its server lives on.
    let s = await scheduler(config);
    let pid = postmaster(data)!;
    s.kill('SIGKILL');
    await s.done;
    expect(alive(pid)).toBe(true);
    let r = await cli(config, 'tokens', 'list');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('left running by a process that is gone');
    await until('the adopted server to stop', () => !alive(pid), 10_000);
    expect(leftBeside(dir)).toEqual(['pg.log']);

    // Owner and server both killed: postmaster.pid names a process that is gone.
    s = await scheduler(config);
    pid = postmaster(data)!;
    const backends = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map(Number)
      .filter((p) => {
        try {
          return Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === pid;
        } catch {
          return false;
        }
      });
    s.kill('SIGKILL');
    process.kill(pid, 'SIGKILL');
    await s.done;
    // Its children notice the postmaster's death and leave; until then its shared memory is still in use.
    await until('the dead server’s processes to end', () => ![pid, ...backends].some(alive), 20_000);
    expect(existsSync(join(data, 'postmaster.pid'))).toBe(true);
    r = await cli(config, 'tokens', 'list');
    expect(r.code, r.stderr).toBe(0);
    expect(postmaster(data)).toBeUndefined();
    expect(leftBeside(dir)).toEqual(['pg.log']);
  }, 240_000);

  it.skipIf(!isRoot)(
    'as root, a data folder the postgres user cannot enter is refused in one line (skipped unless run as root: only root runs the server as another user)',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ruralhub-0700-')); // mode 0700, like a clone under /root
      const config = join(dir, 'config.yaml');
      writeFileSync(
        config,
        `county: { name: 示范县, code: "520102" }\ndatabase: { embedded: { data_dir: "${join(dir, '.ruralhub', 'pg')}" } }\n` +
          `paths: { output_dir: "${join(dir, 'out')}" }\n`,
      );
      const env = { ...cliEnv(), RURALHUB_LOG_LEVEL: 'error' };
      const r = await runCli(['--config', config, 'status'], { env, timeoutMs: 60_000 });
      expect(r.code).toBe(3);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`cannot enter ${dir}`);
      expect(lines[0]).toContain('DATABASE_URL');
      expect(r.stderr).not.toMatch(/EACCES|\n\s+at /);
      expect(readdirSync(dir)).toEqual(['config.yaml']); // nothing made in a folder it cannot use
      // The README's first command, the same way: one line naming what to do, exit 3.
      const demo = await runCli(['--config', config, 'demo', '--persons', '50'], { env, timeoutMs: 60_000 });
      expect(demo.code).toBe(3);
      expect(demo.stderr.trim().split('\n')).toHaveLength(1);
      expect(demo.stderr).toContain(`cannot enter ${dir}`);
      expect(demo.stderr).not.toMatch(/EACCES|\n\s+at /);
    },
    60_000,
  );
});
