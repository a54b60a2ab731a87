/**
 * File drops (ARCHITECTURE: connectors read transports; this is the transport "a folder"). For each feed with
 * a drop folder: a file is taken when complete — a `<name>.done` marker next to it, or unchanged for
 * drop.stable_seconds — imported like `ruralhub import`, then moved to processed/ (loaded, or a duplicate of
 * a file already loaded, same SHA-256) or failed/ (a file that cannot be loaded; the run says why). A transient
 * fault leaves it in place for the next pass. Nothing outside drop.root is read: folders are relative without
 * `..` (config), symbolic links are never followed, and every path is checked to resolve inside the root.
 */
import { lstat, mkdir, readdir, realpath, rename, rm } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import { sql } from 'kysely';
import { FILE_EXTENSIONS, fileKindByExtension } from '../../connectors/registry.ts';
import { BusyError, configError, RuralHubError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { FEED_IDS, type FeedId } from '../../pipelines/feeds/index.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import type { Config } from '../../schemas/config.ts';
import { importFeed, sha256File } from '../load/import-feed.ts';
import type { Warehouse } from '../warehouse/connect.ts';

export const DROP_OUTCOMES = ['loaded', 'duplicate', 'failed', 'waiting', 'refused', 'retry'] as const;
export type DropOutcome = (typeof DROP_OUTCOMES)[number];

export interface DropResult {
  feed: FeedId;
  file: string;
  outcome: DropOutcome;
  message: string;
  runId?: number;
}

export interface DropParams {
  wh: Warehouse;
  config: Readonly<Config>;
  log: Logger;
  today: string;
  feed?: FeedId;
  now?: Date;
}

const IGNORED = /^\.|\.done$|\.partial$|\.tmp$|^~\$/;

/** True when `path`, with every link resolved, is below `root` (itself already resolved). */
async function inside(root: string, path: string): Promise<boolean> {
  const rel = relative(root, await realpath(path));
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

async function moveTo(folder: string, file: string, name: string, now: Date): Promise<string> {
  await mkdir(folder, { recursive: true });
  const target = join(folder, `${now.toISOString().replace(/[:.]/g, '-')}-${name}`);
  await rename(file, target);
  await rm(`${file}.done`, { force: true });
  return target;
}

export async function takeDrops(p: DropParams): Promise<DropResult[]> {
  const drop = p.config.drop;
  if (!drop) throw configError('no drop section in the config (drop.root and drop.folders)');
  const now = p.now ?? new Date();
  const root = await realpath(drop.root).catch(() => {
    throw configError(`drop.root ${drop.root} does not exist`);
  });
  const out: DropResult[] = [];
  for (const feedId of FEED_IDS) {
    const folderName = drop.folders[feedId];
    if (!folderName || (p.feed && p.feed !== feedId)) continue;
    const folder = join(root, folderName);
    if (!(await exists(folder))) {
      p.log.warn({ feed: feedId }, `drop folder ${folderName} does not exist yet`);
      continue;
    }
    if ((await lstat(folder)).isSymbolicLink() || !(await inside(root, folder))) {
      out.push({
        feed: feedId,
        file: folderName,
        outcome: 'refused',
        message: 'the folder is a link or outside drop.root',
      });
      continue;
    }
    const feed = resolveFeed(feedId);
    for (const name of (await readdir(folder)).sort()) {
      if (IGNORED.test(name)) continue;
      const file = join(folder, name);
      const st = await lstat(file);
      if (st.isDirectory()) continue;
      const rel = join(folderName, name);
      if (st.isSymbolicLink() || !st.isFile()) {
        out.push({
          feed: feedId,
          file: rel,
          outcome: 'refused',
          message: 'not a regular file (links are never followed)',
        });
        continue;
      }
      const marked = await exists(`${file}.done`);
      const age = (now.getTime() - st.mtime.getTime()) / 1000;
      if (!marked && age < drop.stable_seconds) {
        out.push({
          feed: feedId,
          file: rel,
          outcome: 'waiting',
          message: `changed ${Math.round(age)} s ago; taken after ${drop.stable_seconds} s or a .done marker`,
        });
        continue;
      }
      // A file no connector reads (a 说明.docx beside the tables) fails without being hashed or making a run,
      // as its import would: the registry of file kinds says what a drop takes.
      const kind = fileKindByExtension(name);
      if (!kind) {
        await moveTo(join(folder, 'failed'), file, name, now);
        out.push({
          feed: feedId,
          file: rel,
          outcome: 'failed',
          message: `unsupported file type '${extname(name) || '(none)'}'; expected one of ${FILE_EXTENSIONS.join(', ')}`,
        });
        continue;
      }
      const sha = await sha256File(file);
      const before = await sql<{ id: number }>`
        SELECT id FROM runs WHERE kind = 'import' AND feed = ${feedId} AND source_sha256 = ${sha}
          AND status IN ('succeeded', 'noop') ORDER BY id LIMIT 1`.execute(p.wh.db);
      if (before.rows[0]) {
        await moveTo(join(folder, 'processed'), file, name, now);
        out.push({
          feed: feedId,
          file: rel,
          outcome: 'duplicate',
          message: `same content as run ${before.rows[0].id}: not loaded again`,
        });
        continue;
      }
      try {
        const s = await importFeed({
          wh: p.wh,
          feed,
          feedConfig: p.config.feeds[feedId],
          path: file,
          log: p.log,
          today: p.today,
          timeZone: p.config.timezone,
        });
        const held = s.status === 'held';
        await moveTo(join(folder, held ? 'failed' : 'processed'), file, name, now);
        out.push({
          feed: feedId,
          file: rel,
          outcome: held ? 'failed' : 'loaded',
          message: held
            ? (s.message ?? 'held')
            : `run ${s.runId}: ${s.counts.rows_loaded} loaded, ${s.counts.rows_quarantined} quarantined`,
          runId: s.runId,
        });
      } catch (err) {
        if (err instanceof BusyError || (err instanceof RuralHubError && err.kind === 'transient')) {
          out.push({ feed: feedId, file: rel, outcome: 'retry', message: err.message });
          continue;
        }
        const message = err instanceof RuralHubError ? err.message : `unexpected: ${(err as Error).message}`;
        await moveTo(join(folder, 'failed'), file, name, now);
        out.push({ feed: feedId, file: rel, outcome: 'failed', message });
      }
    }
  }
  for (const r of out) p.log.info({ feed: r.feed, file: r.file, outcome: r.outcome }, r.message);
  return out;
}
