/**
 * Progress of a long command for the person watching it: on a terminal a single redrawn line on stderr
 * (phase, share done, rows or MiB, rate, elapsed); elsewhere (cron, systemd, CI) a plain log line every few
 * seconds, so a log shows the run is alive without drowning in redraws.
 */
import type { Logger } from '../../core/log.ts';

export interface ProgressUpdate {
  phase: string;
  rows?: number;
  bytes?: number;
  totalBytes?: number;
  done?: number;
  total?: number;
}

const fmtTime = (ms: number) => {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
const fmtCount = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${Math.round(n / 1e3)}k` : String(n);

export function describeProgress(label: string, u: ProgressUpdate, elapsedMs: number): string {
  const secs = Math.max(elapsedMs / 1000, 0.001);
  const parts = [label, u.phase];
  const share =
    u.total !== undefined && u.done !== undefined
      ? u.done / Math.max(u.total, 1)
      : u.totalBytes && u.bytes !== undefined
        ? u.bytes / u.totalBytes
        : undefined;
  if (share !== undefined) {
    const width = 20;
    const filled = Math.round(Math.min(1, share) * width);
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(share * 100)}%`);
  }
  if (u.done !== undefined && u.total !== undefined) parts.push(`${u.done}/${u.total}`);
  if (u.rows !== undefined)
    parts.push(`${fmtCount(u.rows)} rows`, `${fmtCount(Math.round(u.rows / secs))} rows/s`);
  if (u.bytes !== undefined)
    parts.push(`${(u.bytes / 1048576).toFixed(0)} MiB`, `${(u.bytes / 1048576 / secs).toFixed(1)} MiB/s`);
  parts.push(fmtTime(elapsedMs));
  return parts.join('  ');
}

export interface Progress {
  update(u: ProgressUpdate): void;
  end(): void;
}

export function progress(
  label: string,
  log: Logger,
  stream: NodeJS.WriteStream = process.stderr,
  now = Date.now,
): Progress {
  const started = now();
  let last = started; // the first line after `every`: short runs stay quiet
  let shown = false;
  const tty = stream.isTTY === true;
  const every = tty ? 200 : 5000;
  return {
    update(u) {
      const t = now();
      if (t - last < every) return;
      last = t;
      const line = describeProgress(label, u, t - started);
      if (tty) {
        stream.write(`\r\x1b[K${line}`);
        shown = true;
      } else log.info({ progress: u, elapsed_ms: t - started }, line);
    },
    end() {
      if (tty && shown) stream.write('\r\x1b[K');
    },
  };
}

/**
 * Whether a person is watching: stderr (where logs and progress go) is a terminal. Then a command prints a few
 * readable lines of its own, and its INFO log (some forty lines an import) would bury them: the log drops to
 * warnings unless a level was asked for (--verbose, --log-level, RURALHUB_LOG_LEVEL). Elsewhere the JSON log
 * stays complete for the collector.
 */
export function watchedByPerson(
  log: Logger,
  g: { verbose?: boolean | undefined; logLevel?: string | undefined },
  stream: NodeJS.WriteStream = process.stderr,
): boolean {
  if (stream.isTTY !== true) return false;
  if (!g.verbose && !g.logLevel && !process.env.RURALHUB_LOG_LEVEL) log.level = 'warn';
  return true;
}

/** A duration as a person reads it: 0.4s, 12.3s, 2m05s. */
export function fmtDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
