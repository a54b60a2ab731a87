import { defineConfig } from 'vitest/config';

/**
 * npm run test:cluster: the warehouse on a local Citus cluster against the same county on one server
 * (test/cluster/global-setup.ts). Not part of `npm test`: it needs the Citus checkout beside the project. Its files
 * are named *.cluster.ts, which the main config's include (*.test.ts files) does not pick up.
 */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.cluster.ts'],
    globalSetup: ['test/cluster/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 900_000,
    // One file at a time: the cluster's three servers and the single one share two cores.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
    fileParallelism: false,
  },
});
