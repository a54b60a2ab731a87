/** A benchmark's commands: run and timed by the wall clock, and the phases an import logs. */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { bundleIsFresh } from '../../bin/source-stamp.js';

/** Runs a command; throws with its output when it fails. */
export function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const t = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 256 * 1024 * 1024 });
  const s = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return { s, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `timed`, and the command's peak resident set size in MiB: run under GNU time (/usr/bin/time, Debian's `time`),
 * whose last line of standard error it is (taken off the stderr returned).
 */
export function timedWithRss(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = timed('/usr/bin/time', ['-f', '%M', cmd, ...args], env);
  const lines = r.stderr.trimEnd().split('\n');
  const rss = Number(lines.pop()) / 1024;
  return { ...r, stderr: lines.join('\n'), rss };
}

/** The import's per-phase milliseconds from its 'published' log line (log level info), if it printed one. */
export function phasesOf(output: string): Record<string, number> | null {
  for (const line of output.split('\n')) {
    if (!line.includes('"published"')) continue;
    try {
      const ms = (JSON.parse(line) as { ms?: Record<string, number> }).ms;
      if (ms) return ms;
    } catch {
      // not a JSON log line
    }
  }
  return null;
}

/** The phases as one line, "stage 148, normalize 520, …" (null when the import printed none). */
export function phasesLine(output: string): string | null {
  const ms = phasesOf(output);
  return ms
    ? Object.entries(ms)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : null;
}

/**
 * Says so when the command's bundle is stale (sources edited since `npm run build`): every command then starts
 * through tsx, about a second more each, which a benchmark timing commands would count as the engine's.
 */
export function warnIfStale(): void {
  if (!bundleIsFresh())
    console.log(
      'note: dist/ is stale (sources changed since npm run build): each command starts through tsx, ~1 s more — run npm run build first',
    );
}
