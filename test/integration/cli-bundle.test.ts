/**
 * The command bundled as `npm run build` bundles it (scripts/bundle.js, bundleCommand) answers as the sources do:
 * the config check with the rule ids the build wrote in, the schema check, and `migrate` with the migrations in
 * chunks of their own, loaded only when they run. Run from a bundle of its own (node_modules/.cache, inside the
 * project as dist/ is), not from dist/, which is stale while the checkout is being edited.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotSources, sourceManifest } from '../../bin/source-stamp.js';
import { bundleCommand } from '../../scripts/bundle.js';
import { createDb, createPool } from '../../src/warehouse/connect.ts';
import { type CliResult, runCli } from '../support/cli.ts';
import { tempDir } from '../support/files.ts';
import { databaseUrl, dropWarehouse } from '../support/warehouse.ts';

const ROOT = join(import.meta.dirname, '../..');
const cache = join(ROOT, 'node_modules/.cache');
mkdirSync(cache, { recursive: true });
const out = mkdtempSync(join(cache, 'ruralhub-cli-bundle-'));
const dir = tempDir('ruralhub-cli-bundle-');
const schema = `t_cli_bundle_${process.pid}`;

/** `ruralhub args` from the bundle in `out`. */
const fromBundle = (args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> =>
  runCli(args, { env, entry: join(out, 'main.js') });

/** `ruralhub args` from the sources (through tsx), whatever dist/ holds. */
const fromSources = (args: readonly string[], env: NodeJS.ProcessEnv) =>
  runCli(args, { env: { ...env, RURALHUB_FROM_SOURCE: '1' } });

function config(name: string, extra = ''): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `county: { name: 示范县, code: "520102" }
database: { url_env: RH_CLI_BUNDLE_URL, schema: ${schema} }
${extra}`,
  );
  return file;
}

let inputs: string[] = [];
beforeAll(async () => {
  inputs = await bundleCommand(ROOT, out);
}, 120_000);

afterAll(async () => {
  rmSync(out, { recursive: true, force: true });
  const db = createDb(createPool(databaseUrl(), schema));
  try {
    await dropWarehouse(db, schema);
  } finally {
    await db.destroy();
  }
});

describe('the bundled command', () => {
  it('is built from files bin/source-stamp.js checks: `npm run build` makes a bundle taken as fresh', () => {
    const paths = inputs.map((p) => relative(ROOT, p).split('\\').join('/'));
    expect(paths).toContain('pipelines/rules/index.ts'); // the rule ids the build wrote in come from it
    expect(sourceManifest(paths, snapshotSources()).unknown).toEqual([]);
  });

  it('loads the migrations in chunks of their own, apart from the schema check', () => {
    expect(readdirSync(out).filter((f) => /^0001-initial-.*\.js$/.test(f))).toHaveLength(1);
  });

  it('lists the rules as the sources do', async () => {
    const env = { ...process.env };
    const [b, s] = await Promise.all([
      fromBundle(['privacy', 'rules'], env),
      fromSources(['privacy', 'rules'], env),
    ]);
    expect(b.code, b.stderr).toBe(0);
    expect(b).toEqual(s);
  });

  it('takes the rule ids of the registry in a config, and refuses another as the sources do', async () => {
    const file = config('unknown-rule.yaml', 'rules: { R01: { enabled: false }, R99: { enabled: false } }\n');
    const env = { ...process.env, RH_CLI_BUNDLE_URL: databaseUrl() };
    const [b, s] = await Promise.all([
      fromBundle(['--config', file, 'runs'], env),
      fromSources(['--config', file, 'runs'], env),
    ]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/rules\.R99: .*"R01".*"R13"/);
    expect(b).toEqual(s);
  });

  it('checks the schema, migrates it, then reads it', async () => {
    const file = config('county.yaml', 'rules: { R13: { enabled: false } }\n');
    const env = { ...process.env, RH_CLI_BUNDLE_URL: databaseUrl() };
    const before = await fromBundle(['--config', file, 'runs'], env);
    expect(before.code).toBe(2);
    expect(before.stderr).toMatch(
      /needs migrations \(0001-initial, .*0024-version-indexes.*\): run `ruralhub migrate`/,
    );
    expect(before).toEqual(await fromSources(['--config', file, 'runs'], env));

    const migrated = await fromBundle(['--config', file, 'migrate'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(
      /^applied \d+ migration\(s\) to .* schema t_cli_bundle_\d+: 0001-initial, /,
    );

    const [b, s] = await Promise.all([
      fromBundle(['--config', file, 'runs'], env),
      fromSources(['--config', file, 'runs'], env),
    ]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/times in Asia\/Shanghai\n$/);
    expect(b).toEqual(s);
  }, 120_000);
});
