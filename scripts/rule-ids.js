// @ts-check
// The rule ids the bundle's config check takes (src/config/load-config.ts, RURALHUB_BUILD_RULE_IDS): read from the
// rules' registry itself at build time — bundled on its own, run once, its keys taken — so that the registry
// stays the one list of rule ids and a command loading its config need not load the rules (~45 ms a start).
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/**
 * The keys of pipelines/rules/index.ts's RULES, in catalog order, and the absolute paths of the files read to
 * find them (the bundle's freshness covers them). `scratch` is a folder inside the project (the registry's
 * packages resolve from there); the file made in it is removed.
 * @param {string} root
 * @param {string} scratch
 * @returns {Promise<{ ids: string[], inputs: string[] }>}
 */
export async function ruleIds(root, scratch) {
  const file = join(scratch, `.rule-ids-${process.pid}.mjs`);
  const r = await build({
    stdin: {
      contents: "export { RULES } from './pipelines/rules/index.ts';",
      resolveDir: root,
      sourcefile: 'rule-ids-entry.ts',
      loader: 'ts',
    },
    outfile: file,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    metafile: true,
    logLevel: 'warning',
  });
  try {
    /** @type {{ RULES: Record<string, unknown> }} */
    const mod = await import(pathToFileURL(file).href);
    const ids = Object.keys(mod.RULES);
    if (ids.length === 0)
      throw new Error('build: the rules registry (pipelines/rules/index.ts) has no rules');
    const inputs = Object.keys(r.metafile.inputs)
      .filter((p) => !p.includes(':') && p !== 'rule-ids-entry.ts')
      .map((p) => resolve(p));
    return { ids, inputs };
  } finally {
    rmSync(file, { force: true });
  }
}
