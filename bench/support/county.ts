/**
 * A demo county for the benchmarks: generated into a folder, its twelve feeds imported by the command as an
 * operator would (one process per file), each import timed by the wall clock and by the run ledger.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FEED_IDS, type FeedId } from '../../pipelines/feeds/index.ts';
import { generateDemoCounty } from '../../src/demo/generate.ts';
import { timedWithRss } from './command.ts';

export const BENCH_AS_OF = '2026-11-24';

/** A county's files on disk, and the command bound to a config naming the warehouse `schema` at `url`. */
export async function benchCounty(o: {
  dir: string;
  url: string;
  schema: string;
  persons: number;
  residents: number;
  /** The command's log level: 'info' prints each import's phases. */
  logLevel?: 'info' | 'warn';
}) {
  const t = performance.now();
  const county = await generateDemoCounty({
    dir: join(o.dir, 'files'),
    persons: o.persons,
    residents: o.residents,
    seed: 5,
    asOf: BENCH_AS_OF,
  });
  const generatedS = (performance.now() - t) / 1000;
  const files = FEED_IDS.flatMap((feed) => {
    const file = county.files[feed];
    return file ? [{ feed, file, bytes: statSync(file).size }] : [];
  });
  return { files, generatedS, ...countyCommand(o) };
}

/**
 * The command bound to a config of its own in `dir` naming the warehouse `schema` at `url`: one county's files can
 * then be imported into several warehouses (bench cluster: a Citus coordinator and one server).
 */
export function countyCommand(o: { dir: string; url: string; schema: string; logLevel?: 'info' | 'warn' }) {
  const cfg = join(o.dir, `bench-${o.schema}.yaml`);
  writeFileSync(
    cfg,
    `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_BENCH_URL, schema: ${o.schema} }\n`,
  );
  const bin = resolve(import.meta.dirname, '../../bin/ruralhub.js');
  const env = { ...process.env, RH_BENCH_URL: o.url, RURALHUB_LOG_LEVEL: o.logLevel ?? 'warn' };
  const cli = (...a: string[]) => timedWithRss(process.execPath, [bin, '--config', cfg, ...a], env);
  return { cli, env };
}

export interface FeedImport {
  feed: FeedId;
  file: string;
  bytes: number;
  /** Wall clock of the command (start-up included). */
  s: number;
  /** The command's peak resident set size, MiB. */
  rss: number;
  stdout: string;
  stderr: string;
}

/** Imports every file of the county in the catalog's order, as of BENCH_AS_OF; `each` sees each as it ends. */
export function importCounty(
  county: Pick<Awaited<ReturnType<typeof benchCounty>>, 'files' | 'cli'>,
  each?: (i: FeedImport) => void,
): FeedImport[] {
  county.cli('migrate');
  return county.files.map(({ feed, file, bytes }) => {
    const r = county.cli('import', feed, '--file', file, '--as-of', BENCH_AS_OF);
    const done = { feed, file, bytes, ...r };
    each?.(done);
    return done;
  });
}
