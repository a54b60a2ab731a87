// What the bundle in dist/ was built from: dist/sources.json lists every file esbuild read outside node_modules
// (the TypeScript, and the .mjs modules started by address, src/load/hash-thread.mjs) with its size and
// modification time, and package-lock.json (bundled packages are copies: a changed install needs a new bundle).
// The command runs the bundle only while every listed file is still as listed, so an edited checkout never runs
// stale code: an edited file changes its time, a deleted or renamed one is missing, and a new file reaches the
// bundle only through an import in a listed file, which is then edited too. One stat per listed file and no
// hashing, no directory walk: ~2 ms instead of ~25 ms at every start.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BUNDLE = join(ROOT, 'dist', 'main.js');
const MANIFEST = join(ROOT, 'dist', 'sources.json');
const LOCK = 'package-lock.json';
/** Files of the project's root the bundle may hold: package.json (the version `--version` prints). */
const ROOT_FILES = ['package.json', LOCK];
const SOURCE_DIRS = ['core', 'src', 'connectors', 'schemas', 'pipelines'];

/** [path relative to the project, size, mtimeMs] of a file, or null when it is missing. */
function entry(path) {
  const st = statSync(join(ROOT, path), { throwIfNoEntry: false });
  return st ? [path, st.size, st.mtimeMs] : null;
}

/**
 * Size and time of every file under the source folders, and of package.json and package-lock.json: taken by scripts/build.js
 * before it bundles, so that a file edited while esbuild runs is recorded as it was before (and found stale).
 * @returns {Map<string, [string, number, number]>}
 */
export function snapshotSources() {
  const seen = new Map();
  const walk = (dir) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(path);
      else if (e.isFile()) {
        const f = entry(path);
        if (f) seen.set(path, f);
      }
    }
  };
  for (const dir of SOURCE_DIRS) walk(dir);
  for (const path of ROOT_FILES) {
    const f = entry(path);
    if (f) seen.set(path, f);
  }
  return seen;
}

/**
 * The manifest of a bundle built from `inputs` (paths relative to the project, as esbuild's metafile names
 * them; those in node_modules are covered by package-lock.json), with the sizes and times of `before`. An input
 * `before` does not hold is listed as missing, so the bundle is never taken as fresh: returned in `unknown`.
 * @param {Iterable<string>} inputs
 * @param {Map<string, [string, number, number]>} before
 */
export function sourceManifest(inputs, before) {
  const paths = [...new Set([...inputs].filter((p) => !/(^|\/)node_modules\//.test(p))), LOCK].sort();
  const unknown = paths.filter((p) => !before.has(p));
  return { manifest: { version: 1, files: paths.map((p) => before.get(p) ?? [p, -1, -1]) }, unknown };
}

export function manifestPath() {
  return MANIFEST;
}

/** True when dist/ holds a bundle built from the sources as they are now. */
export function bundleIsFresh() {
  try {
    const { version, files } = JSON.parse(readFileSync(MANIFEST, 'utf8'));
    if (version !== 1 || !Array.isArray(files) || files.length < 2) return false;
    for (const [path, size, mtimeMs] of files) {
      const now = entry(path);
      if (now === null || now[1] !== size || now[2] !== mtimeMs) return false;
    }
    return true;
  } catch {
    return false;
  }
}
