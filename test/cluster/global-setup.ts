/**
 * The cluster tests' servers (npm run test:cluster): a local Citus cluster — a coordinator and two workers, each a
 * PostgreSQL 15 on 127.0.0.1 — started by the scripts of the Citus checkout beside the project (the directory
 * RURALHUB_CITUS_DIR names, default ../shared/citus beside the project: its build.sh builds
 * and installs Citus when it is not, and is a no-op when it is; its cluster.sh starts and stops the servers), and
 * the single server the same county is compared with (test/support/global-setup.ts: TEST_DATABASE_URL or an
 * embedded server). Only this command needs that checkout (issue 26 allows it to its tests); the project never
 * does at run time.
 *
 * RURALHUB_CLUSTER_DIR (default a folder under the system's temp dir) holds the servers' data and
 * RURALHUB_CLUSTER_PORT (default 56600) is the coordinator's port, the workers on the next two. A cluster already
 * answering there is used and left running; one this setup started is stopped at the end.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import singleServer from '../support/global-setup.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    clusterUrl: string;
  }
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Whether a Citus coordinator answers at `url` (its extension there, workers registered). */
async function coordinatorAt(url: string): Promise<boolean> {
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

export default async function setup(project: TestProject) {
  const citus = process.env.RURALHUB_CITUS_DIR
    ? resolve(root, process.env.RURALHUB_CITUS_DIR)
    : resolve(root, '../shared/citus');
  const script = (name: string) => {
    const path = join(citus, name);
    if (!existsSync(path)) {
      throw new Error(
        `${path} not found: set RURALHUB_CITUS_DIR to the folder holding Citus's build.sh and cluster.sh`,
      );
    }
    return path;
  };
  const port = Number(process.env.RURALHUB_CLUSTER_PORT ?? 56600);
  const dir = process.env.RURALHUB_CLUSTER_DIR ?? join(tmpdir(), `ruralhub-cluster-${port}`);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const running = await coordinatorAt(url);
  if (!running) {
    // A no-op (one line) when this release is installed; a build of a few minutes on two cores when not.
    execFileSync(script('build.sh'), ['15'], { stdio: 'inherit' });
    const printed = execFileSync(script('cluster.sh'), ['start', dir, String(port), '2'], {
      encoding: 'utf8',
    });
    if (printed.trim() !== url)
      throw new Error(`cluster.sh start printed ${printed.trim()}, expected ${url}`);
  }
  project.provide('clusterUrl', url);
  const stopSingle = await singleServer(project);
  return async () => {
    await stopSingle();
    if (!running) execFileSync(script('cluster.sh'), ['stop', dir], { stdio: 'inherit' });
  };
}
