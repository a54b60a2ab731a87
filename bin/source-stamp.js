// What the bundle in dist/ was built from: every source's path, size and modification time (TypeScript, and the
// .mjs modules started by address, src/load/hash-thread.mjs). The command runs the bundle only while the sources
// still match it, so an edited checkout never runs stale code.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BUNDLE = join(ROOT, 'dist', 'main.js');
const STAMP = join(ROOT, 'dist', 'sources.sha256');
const SOURCE_DIRS = ['core', 'src', 'connectors', 'schemas', 'pipelines'];

export function sourceStamp() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') || entry.name.endsWith('.mjs')) {
        const st = statSync(path);
        hash.update(`${relative(ROOT, path)}\0${st.size}\0${st.mtimeMs}\n`);
      }
    }
  };
  for (const dir of SOURCE_DIRS) walk(join(ROOT, dir));
  // Bundled packages are copies: a changed install (package-lock.json) needs a new bundle too.
  const lock = statSync(join(ROOT, 'package-lock.json'), { throwIfNoEntry: false });
  hash.update(`package-lock.json\0${lock?.size ?? 0}\0${lock?.mtimeMs ?? 0}\n`);
  return hash.digest('hex');
}

export function stampPath() {
  return STAMP;
}

/** True when dist/ holds a bundle built from the sources as they are now. */
export function bundleIsFresh() {
  try {
    return readFileSync(STAMP, 'utf8').trim() === sourceStamp();
  } catch {
    return false;
  }
}
