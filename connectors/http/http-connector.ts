/**
 * Paged HTTP/JSON APIs (a department's data service) as a connector:
 *  - paging by page/size, offset/limit or a next-cursor; the read ends only on the API's explicit end signal
 *    (a `has_more: false`-style field, or no next cursor) — never because a page came back short;
 *  - bearer token from an environment variable or a token command, never in a message; a token that expires
 *    during a long read (HTTP 401 after a page was read with it) is obtained again once and the page retried;
 *  - a timeout per request; retries with exponential backoff and jitter on 5xx, 429, timeouts and network
 *    faults — or after the wait a 429/503's Retry-After asks for, up to a cap; other 4xx fail at once (a wrong
 *    URL or token does not get better by asking again);
 *  - with `total_field`, the records read must match the total the API reports, else the read fails (a page
 *    silently lost, or data that moved under offset paging);
 *  - incremental: records' cursor field ≥ the saved checkpoint is asked for with `since_param`, and the
 *    largest value seen becomes the next checkpoint.
 *
 * No page checkpoints: a failed read resumes from the start (or from the last run's `since` checkpoint), not
 * from its last page. A run publishes in one transaction or not at all, and a snapshot feed needs every
 * record of one read to know which records ended; offsets of an earlier read also no longer point at the
 * same records.
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { z } from 'zod';
import { backoffSeconds } from '../../core/backoff.ts';
import { configError, dataError, transientError } from '../../core/errors.ts';
import { type HttpConfig, HttpConfigSchema } from '../../schemas/sources.ts';
import type { CheckResult, Connector, ReadMessage, ReadOptions, StreamInfo } from '../connector.ts';
import { decodeGb18030 } from '../gb18030.ts';
import { decodingDamaged, REPLACEMENT, recordOf } from '../text-damage.ts';

type Cfg = z.infer<typeof HttpConfigSchema>;

/** The URL for messages: no query string (it may carry a key). */
const shown = (u: URL) => `${u.origin}${u.pathname}`;

/**
 * Milliseconds a Retry-After header asks to wait: delay-seconds or an HTTP-date (RFC 9110 §10.2.3); null
 * when absent or unreadable (the backoff applies).
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  const v = header?.trim();
  if (!v) return null;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Only date-looking values: Date.parse also takes '5.5' (as 2001-05-05).
  if (!/^[A-Za-z]{3}/.test(v)) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

/** Where the token comes from, for messages (the name of its variable or program, never its value). */
const tokenSource = (cfg: Cfg) =>
  cfg.token_env
    ? ` in ${cfg.token_env}`
    : cfg.token_command
      ? ` from token_command ${cfg.token_command[0]}`
      : ' (none configured: token_env)';

const execFileAsync = promisify(execFile);

/** The token, from its variable or program; undefined when none is configured. */
async function obtainToken(cfg: Cfg): Promise<string | undefined> {
  let token: string | undefined;
  if (cfg.token_command) {
    const [program, ...args] = cfg.token_command;
    try {
      const { stdout } = await execFileAsync(program!, args, {
        encoding: 'utf8',
        timeout: 30_000,
        maxBuffer: 64 * 1024,
      });
      token = stdout.trim();
    } catch (err) {
      // Never the error's message: it quotes the program's stderr, which may hold the token.
      const e = err as { code?: string | number; signal?: string; killed?: boolean };
      const why = e.killed
        ? 'no token within 30 s'
        : typeof e.code === 'number'
          ? `exit ${e.code}`
          : (e.code ?? `signal ${e.signal}`);
      throw configError(`token_command ${program} failed (${why})`);
    }
    if (!token) throw configError(`token_command ${program} printed no token`);
  } else if (cfg.token_env) {
    // Trimmed as fetch trims a header value: a variable filled from a file keeps its final newline.
    token = process.env[cfg.token_env]?.trim();
    if (!token) throw configError(`${cfg.token_env} is not set: it must hold the API token`);
  }
  // Checked here: fetch's own error for a bad header value quotes the value.
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token))
    throw configError(`the token${tokenSource(cfg)} holds characters an HTTP header cannot carry`);
  return token;
}

async function getJson(
  cfg: Cfg,
  url: URL,
  headers: Record<string, string>,
  signal?: AbortSignal,
  /** After a page was read: obtains the token again; true when it changed (then the request is retried). */
  refresh?: () => Promise<boolean>,
): Promise<{ body: unknown; isDamaged: (value: string) => boolean }> {
  let lastError = '';
  /** What the last 429/503 asked to wait, instead of the backoff. */
  let asked: number | null = null;
  let refreshed = false;
  for (let attempt = 1; attempt <= cfg.max_attempts; attempt++) {
    if (attempt > 1) {
      const base = cfg.backoff_ms / 1000;
      await sleep(
        asked ?? backoffSeconds(attempt - 1, { baseSeconds: base, maxSeconds: base * 64 }) * 1000,
        undefined,
        { signal },
      );
    }
    asked = null;
    let res: Response;
    try {
      res = await fetch(url, {
        headers,
        signal: AbortSignal.any([AbortSignal.timeout(cfg.timeout_ms), ...(signal ? [signal] : [])]),
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      lastError =
        (err as Error).name === 'TimeoutError'
          ? `no answer within ${cfg.timeout_ms} ms`
          : `unreachable (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name})`;
      continue;
    }
    if (res.ok) {
      const bytes = Buffer.from(await res.arrayBuffer());
      // Decoded here, not by res.json(): a damaged byte must be seen, not silently made U+FFFD.
      const gb = /charset\s*=\s*"?(gb|cp936)/i.test(res.headers.get('content-type') ?? '');
      // The one GB18030 decoder every reader uses (connectors/gb18030.ts): the same bytes are the same text.
      const decoded = gb ? decodeGb18030(bytes) : null;
      const text = decoded ? decoded.text : bytes.toString('utf8');
      try {
        const damaged = decoded ? decoded.errors > 0 : decodingDamaged(text, bytes, 'utf8');
        // On a damaged page, a value with U+FFFD is damaged unless the answer holds it byte for byte.
        const isDamaged = (v: string) => damaged && (gb || !bytes.includes(Buffer.from(v, 'utf8')));
        return { body: JSON.parse(text) as unknown, isDamaged };
      } catch {
        throw dataError(`${shown(url)}: the answer is not JSON`);
      }
    }
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 401 && refresh && !refreshed) {
      // Expired during a long read: the token was good for an earlier page. Obtained again once per page; an
      // unchanged one is not worth asking with again.
      refreshed = true;
      if (await refresh()) {
        attempt--;
        continue;
      }
    }
    if (res.status === 401 || res.status === 403) {
      throw configError(
        `${shown(url)}: HTTP ${res.status}: the API refused the token${tokenSource(cfg)}${refreshed ? ' (obtained again after an earlier page: refused or unchanged)' : ''}`,
      );
    }
    if (res.status < 500 && res.status !== 429) throw configError(`${shown(url)}: HTTP ${res.status}`);
    lastError = `HTTP ${res.status}`;
    if (res.status === 429 || res.status === 503) {
      asked = retryAfterMs(res.headers.get('retry-after'));
      if (asked !== null && asked > cfg.retry_after_max_ms) {
        // Asking sooner than the API allows only spends attempts: the run fails as transient and is retried
        // by its scheduler later.
        throw transientError(
          `${shown(url)}: HTTP ${res.status}: the API asks to wait ${Math.ceil(asked / 1000)} s, more than retry_after_max_ms (${cfg.retry_after_max_ms / 1000} s)`,
        );
      }
    }
  }
  throw transientError(`${shown(url)}: ${lastError} after ${cfg.max_attempts} attempts`);
}

function field(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const k of path.split('.'))
    v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

const cellOf = (v: unknown): string | null =>
  v === null || v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : String(v);

async function* readHttp(config: HttpConfig, options: ReadOptions = {}): AsyncGenerator<ReadMessage> {
  const cfg = HttpConfigSchema.parse(config);
  const headers: Record<string, string> = { accept: 'application/json' };
  let token = await obtainToken(cfg);
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const refresh = async (): Promise<boolean> => {
    const fresh = await obtainToken(cfg);
    if (fresh === undefined || fresh === token) return false;
    token = fresh;
    headers.authorization = `Bearer ${fresh}`;
    return true;
  };
  const base = new URL(cfg.url);
  const source = `http:${base.host}${base.pathname}`;
  if (cfg.since_param && options.cursor !== undefined) base.searchParams.set(cfg.since_param, options.cursor);
  let columns: string[] | null = cfg.fields ?? null;
  let n = 0;
  let max: string | undefined;
  let page = cfg.paging.kind === 'page' ? cfg.paging.first : 0;
  let offset = 0;
  let next: string | undefined;
  let headerSent = false;
  let pages = 0;
  /** The total the API reported (total_field), and on which page first. */
  let total: { n: number; url: URL } | null = null;
  for (;;) {
    const url = new URL(base);
    const p = cfg.paging;
    if (p.kind === 'page') {
      url.searchParams.set(p.page_param, String(page));
      url.searchParams.set(p.size_param, String(p.size));
    } else if (p.kind === 'offset') {
      url.searchParams.set(p.offset_param, String(offset));
      url.searchParams.set(p.limit_param, String(p.limit));
    } else if (next !== undefined) url.searchParams.set(p.cursor_param, next);
    const { body, isDamaged } = await getJson(
      cfg,
      url,
      headers,
      options.signal,
      pages > 0 && token !== undefined ? refresh : undefined,
    );
    pages++;
    if (cfg.total_field) {
      const t = field(body, cfg.total_field);
      const n = typeof t === 'string' && /^\d+$/.test(t) ? Number(t) : t;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
        throw dataError(`${shown(url)}: no total '${cfg.total_field}' (a whole number) in the answer`);
      if (total && total.n !== n) {
        throw dataError(
          `${shown(url)}: the API's total changed during the read, from ${total.n} to ${n}: records may have been skipped or read twice; read again`,
        );
      }
      total ??= { n, url };
    }
    const records = field(body, cfg.records_field);
    if (!Array.isArray(records))
      throw dataError(`${shown(url)}: no array at '${cfg.records_field}' in the answer`);
    if (!columns) {
      // Without configured fields the first record names the columns; later records are read by them.
      if (!records.length) {
        throw dataError(
          `${shown(url)}: the first page is empty and no 'fields' are configured: the columns are unknown`,
        );
      }
      columns = Object.keys(records[0] as object);
    }
    if (!headerSent) {
      headerSent = true;
      yield { type: 'header', columns, position: { source, row: 0 } };
    }
    for (const r of records as Record<string, unknown>[]) {
      n++;
      const cells = columns.map((c) => cellOf(r[c]));
      const bad = cells.flatMap((c, i) => (c?.includes(REPLACEMENT) && isDamaged(c) ? [i] : []));
      yield recordOf(cells, { source, row: n }, bad);
      if (cfg.cursor_field) {
        const v = cellOf(r[cfg.cursor_field]);
        if (v !== null && (max === undefined || v > max)) max = v;
      }
    }
    // The end: only the API's own signal. A short page is not one (APIs cap pages, filter rows, hiccup).
    if (p.kind === 'cursor') {
      const nx = field(body, p.next_field);
      if (nx === null || nx === undefined || nx === '') break;
      next = String(nx);
    } else {
      const more = field(body, cfg.more_field);
      if (typeof more !== 'boolean')
        throw dataError(`${shown(url)}: no end signal '${cfg.more_field}' (true/false) in the answer`);
      if (!more) break;
      // An empty page that says more follow would have offset paging ask for the same offset forever.
      if (p.kind === 'offset' && !records.length)
        throw dataError(`${shown(url)}: an empty page at offset ${offset} says more follow`);
      page++;
      offset += records.length;
    }
  }
  if (total && total.n !== n) {
    throw dataError(
      `${shown(total.url)}: the API reported ${total.n} records in '${cfg.total_field}', ${n} were read over ${pages} pages: ${n < total.n ? 'a page was lost' : 'records were read twice'}`,
    );
  }
  if (cfg.cursor_field && (max ?? options.cursor) !== undefined)
    yield { type: 'checkpoint', cursor: (max ?? options.cursor)! };
}

export const httpConnector: Connector<HttpConfig> = {
  kind: 'http',
  async check(config): Promise<CheckResult> {
    try {
      for await (const m of readHttp(config))
        if (m.type === 'header')
          return { ok: true, message: `${m.position.source}: columns ${m.columns.join(', ')}` };
      return { ok: true, message: 'reachable' };
    } catch (err) {
      return { ok: false, message: (err as Error).message };
    }
  },
  async list(config): Promise<StreamInfo[]> {
    return [{ name: HttpConfigSchema.parse(config).url }];
  },
  read: readHttp,
};
