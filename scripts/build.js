#!/usr/bin/env node
// `npm run build` (also run by `npm install`): bundles the command into dist/ with esbuild, so that it starts
// without transpiling TypeScript at every start (README, "Start-up": `npm run bench -- startup`). Packages with
// native parts or loaded on demand stay in node_modules (scripts/bundle.js). bin/ruralhub.js falls back to the
// sources (through tsx) whenever dist/ is missing or any file it was built from changed since, so forgetting to
// build costs start-up time, never correctness.
import { rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { manifestPath, ROOT, snapshotSources, sourceManifest } from '../bin/source-stamp.js';
import { bundleCommand } from './bundle.js';

// Sizes and times before esbuild reads anything: a file edited during the build is then found stale.
const before = snapshotSources();
rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
// With the config check's rule ids read from the rules' registry (scripts/rule-ids.js, src/config/load-config.ts).
const inputs = await bundleCommand(ROOT, join(ROOT, 'dist'));
const { manifest, unknown } = sourceManifest(
  inputs.map((p) => relative(ROOT, p).split('\\').join('/')),
  before,
);
writeFileSync(manifestPath(), `${JSON.stringify(manifest)}\n`);
// A bundle never taken as fresh makes every command start through tsx (seconds, not tenths): a build error, so
// that `npm install` and CI say so the day a source outside bin/source-stamp.js's folders is imported.
if (unknown.length) {
  process.stderr.write(
    `build: ${unknown.join(', ')} outside the source folders (bin/source-stamp.js): the bundle would never be taken as fresh\n`,
  );
  process.exitCode = 1;
}
