/**
 * The cluster tests' servers (npm run test:cluster): a local Citus cluster (test/cluster/citus.ts: a coordinator and
 * two workers on 127.0.0.1, built and started by the workplace's Citus checkout's scripts), and the single server
 * the same county is compared with (test/support/global-setup.ts: TEST_DATABASE_URL or an embedded server).
 *
 * RURALHUB_CLUSTER_DIR (default a folder under the system's temp dir) holds the servers' data and
 * RURALHUB_CLUSTER_PORT (default 56600) is the coordinator's port, the workers on the next two. A cluster already
 * answering there is used and left running; one this setup started is stopped at the end.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import singleServer from '../support/global-setup.ts';
import { localCluster } from './citus.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    clusterUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const port = Number(process.env.RURALHUB_CLUSTER_PORT ?? 56600);
  const dir = process.env.RURALHUB_CLUSTER_DIR ?? join(tmpdir(), `ruralhub-cluster-${port}`);
  const cluster = await localCluster({ port, dir });
  project.provide('clusterUrl', cluster.url);
  const stopSingle = await singleServer(project);
  return async () => {
    await stopSingle();
    cluster.stop();
  };
}
