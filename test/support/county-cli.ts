/**
 * A county whose warehouse is a schema of its own on the test run's server, and `ruralhub` run against it as a
 * person runs it (a config file, the database URL from the environment). `drop` removes the warehouse and its
 * roles after the file's tests: left behind, every run added two roles to the server.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDb, createPool } from '../../src/warehouse/connect.ts';
import { type CliResult, runCli } from './cli.ts';
import { tempDir } from './files.ts';
import { databaseUrl, dropWarehouse } from './warehouse.ts';

export interface CountyCli {
  /** A folder of its own for the test's files (removed after the run). */
  dir: string;
  schema: string;
  /** The county's config file. */
  cfg: string;
  ruralhub(args: string[]): Promise<CliResult>;
  drop(): Promise<void>;
}

/** `extra`: more lines of the county's config (YAML, each ending in a newline). */
export function countyCli(label: string, opts: { timeoutMs?: number; extra?: string } = {}): CountyCli {
  const dir = tempDir(`ruralhub-${label}-`);
  const schema = `${label}_${Math.random().toString(36).slice(2, 8)}`;
  const cfg = join(dir, 'county.yaml');
  writeFileSync(
    cfg,
    `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_TEST_URL, schema: ${schema} }\n${opts.extra ?? ''}`,
  );
  return {
    dir,
    schema,
    cfg,
    ruralhub: (args) =>
      runCli(['--config', cfg, ...args], {
        env: { ...process.env, DATABASE_URL: '', RURALHUB_LOG_LEVEL: 'warn', RH_TEST_URL: databaseUrl() },
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      }),
    async drop() {
      const db = createDb(createPool(databaseUrl(), schema));
      try {
        await dropWarehouse(db, schema);
      } finally {
        await db.destroy();
      }
    },
  };
}
