/**
 * A local Citus cluster for the cluster tests (npm run test:cluster) and the cluster benchmark (npm run bench --
 * cluster): a coordinator and two workers, each a PostgreSQL 15 on 127.0.0.1, built and started by the scripts of
 * the workplace's Citus checkout (its build.sh builds and installs Citus when it is not, and is a no-op when it is;
 * its cluster.sh starts and stops the servers). Only the tests and benchmarks need that checkout (issue 26 allows
 * it to them); the project never does at run time — users install Citus from its own packages.
 *
 * Where the checkout is: RURALHUB_CITUS_DIR, else ../shared/citus beside the project, else beside the repository
 * this one was cloned from when that is a folder on this machine (CI runs a fresh clone elsewhere).
 *
 * `node --import tsx test/cluster/citus.ts --where` prints the folder, or says in one line why there is none and
 * exits 1 (.ci/run asks this before it runs the cluster tests).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BESIDE = ['..', 'shared', 'citus'];

/** The folder of the project this checkout was cloned from, when git names a folder on this machine. */
function origin(): string | null {
  try {
    const url = execFileSync('git', ['-C', root, 'remote', 'get-url', 'origin'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const path = url.startsWith('file://') ? fileURLToPath(url) : url;
    if (!isAbsolute(path) || !existsSync(path)) return null;
    return path.endsWith('.git') ? dirname(path) : path;
  } catch {
    return null;
  }
}

/** The Citus checkout's folder, or why there is none. */
export function citusDir(): { dir: string } | { missing: string } {
  const named = process.env.RURALHUB_CITUS_DIR;
  const candidates = named
    ? [resolve(root, named)]
    : [join(root, ...BESIDE), ...[origin()].flatMap((o) => (o ? [join(o, ...BESIDE)] : []))];
  const dir = candidates.find((d) => existsSync(join(d, 'cluster.sh')) && existsSync(join(d, 'build.sh')));
  return dir
    ? { dir }
    : {
        missing: `no Citus checkout (build.sh and cluster.sh) at ${candidates.join(' or ')}: set RURALHUB_CITUS_DIR to one`,
      };
}

/** Whether a Citus coordinator answers at `url` (its extension there, workers registered). */
export async function coordinatorAt(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    const r = await c.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_dist_node WHERE noderole = 'primary' AND groupid > 0",
    );
    return (r.rows[0]?.n ?? 0) > 0;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * A cluster whose coordinator listens on `port` (workers on the next two), data under `dir`: the one already
 * answering there, left running, or one built if need be and started here, which `stop` stops.
 */
export async function localCluster(o: {
  port: number;
  dir: string;
  log?: 'inherit' | 'ignore';
}): Promise<{ url: string; stop: () => void }> {
  const url = `postgres://postgres@127.0.0.1:${o.port}/postgres`;
  if (await coordinatorAt(url)) return { url, stop: () => undefined };
  const found = citusDir();
  if ('missing' in found) throw new Error(found.missing);
  const script = (name: string) => join(found.dir, name);
  // A no-op (one line) when this release is installed; a build of a few minutes on two cores when not.
  execFileSync(script('build.sh'), ['15'], { stdio: o.log ?? 'inherit' });
  const printed = execFileSync(script('cluster.sh'), ['start', o.dir, String(o.port), '2'], {
    encoding: 'utf8',
  });
  if (printed.trim() !== url) throw new Error(`cluster.sh start printed ${printed.trim()}, expected ${url}`);
  return {
    url,
    stop: () => execFileSync(script('cluster.sh'), ['stop', o.dir], { stdio: o.log ?? 'inherit' }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--where') {
  const found = citusDir();
  if ('dir' in found) console.log(found.dir);
  else {
    console.error(found.missing);
    process.exitCode = 1;
  }
}
