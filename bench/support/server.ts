import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbedded } from '../../src/warehouse/embedded.ts';

/**
 * The PostgreSQL a benchmark measures against: BENCH_DATABASE_URL, else TEST_DATABASE_URL / DATABASE_URL, when
 * set (psql must reach it), else a throw-away embedded server with its data in `dir`. BENCH_DATABASE_URL first: a
 * benchmark can then measure another server (PostgreSQL 15 with the README's settings, say) than the one the
 * tests of the same shell use.
 */
export async function benchServer(dir: string): Promise<{ url: string; stop?: () => Promise<void> }> {
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (url) return { url };
  // the server runs as its own user when we are root: it must be able to reach the data folder
  chmodSync(dir, 0o755);
  const srv = await startEmbedded({ dataDir: join(dir, 'pg'), ephemeral: true });
  return { url: srv.url, stop: srv.stop };
}
