/**
 * One real PostgreSQL for the whole test run: the server named by TEST_DATABASE_URL (a fresh database is
 * created on it and dropped afterwards), or an embedded server in a throw-away folder. Each test file then
 * works in its own schema (test/support/warehouse.ts), so files run in parallel.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbedded } from '../../src/warehouse/embedded.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    const name = `ruralhub_test_${process.pid}_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: external });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(external);
    url.pathname = `/${name}`;
    project.provide('databaseUrl', url.toString());
    return async () => {
      const c = new pg.Client({ connectionString: external });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }
  const server = await startEmbedded({
    dataDir: join(tmpdir(), `ruralhub-test-pg-${process.pid}-${randomBytes(3).toString('hex')}`),
    ephemeral: true,
    // Test data is disposable: trade durability for speed.
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
  });
  project.provide('databaseUrl', server.url);
  return async () => {
    await server.stop();
  };
}
