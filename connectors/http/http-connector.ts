/**
 * Paged HTTP/JSON APIs (a department's data service) as a connector:
 *  - paging by page/size, offset/limit or a next-cursor; the read ends only on the API's explicit end signal
 *    (a `has_more: false`-style field, or no next cursor) — never because a page came back short;
 *  - bearer token from an environment variable, never in a message;
 *  - a timeout per request; retries with exponential backoff and jitter on 5xx, 429, timeouts and network
 *    faults; other 4xx fail at once (a wrong URL or token does not get better by asking again);
 *  - incremental: records' cursor field ≥ the saved checkpoint is asked for with `since_param`, and the
 *    largest value seen becomes the next checkpoint.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import iconv from 'iconv-lite';
import { z } from 'zod';
import { configError, dataError, transientError } from '../../src/errors.ts';
import { backoffSeconds } from '../../src/scheduler/slots.ts';
import type { CheckResult, Connector, ReadMessage, ReadOptions, StreamInfo } from '../connector.ts';
import { REPLACEMENT, replacements, textDamaged } from '../text-damage.ts';

const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name (the token itself never goes here)');

export const HttpConfigSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    token_env: envName.optional(),
    paging: z.discriminatedUnion('kind', [
      z
        .object({
          kind: z.literal('page'),
          page_param: z.string().default('page'),
          size_param: z.string().default('size'),
          size: z.number().int().min(1).max(10_000).default(500),
          first: z.number().int().min(0).default(1),
        })
        .strict(),
      z
        .object({
          kind: z.literal('offset'),
          offset_param: z.string().default('offset'),
          limit_param: z.string().default('limit'),
          limit: z.number().int().min(1).max(10_000).default(500),
        })
        .strict(),
      z
        .object({
          kind: z.literal('cursor'),
          cursor_param: z.string().default('cursor'),
          next_field: z.string().default('next_cursor'),
        })
        .strict(),
    ]),
    /** Field of the response holding the array of records. */
    records_field: z.string().default('data'),
    /** For page/offset paging: the response field that says whether more pages follow (true = more). */
    more_field: z.string().default('has_more'),
    /** Incremental APIs: the query parameter taking the checkpoint, and the record field it is compared with. */
    since_param: z.string().optional(),
    cursor_field: z.string().optional(),
    /** Columns in order (default: the keys of the first record). */
    fields: z.array(z.string()).optional(),
    timeout_ms: z.number().int().min(100).default(30_000),
    max_attempts: z.number().int().min(1).max(10).default(5),
    backoff_ms: z.number().int().min(1).default(500),
  })
  .strict();
export type HttpConfig = z.input<typeof HttpConfigSchema>;
type Cfg = z.infer<typeof HttpConfigSchema>;

/** The URL for messages: no query string (it may carry a key). */
const shown = (u: URL) => `${u.origin}${u.pathname}`;

async function getJson(
  cfg: Cfg,
  url: URL,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<{ body: unknown; isDamaged: (value: string) => boolean }> {
  let lastError = '';
  for (let attempt = 1; attempt <= cfg.max_attempts; attempt++) {
    if (attempt > 1) {
      const base = cfg.backoff_ms / 1000;
      await sleep(
        backoffSeconds(attempt - 1, { baseSeconds: base, maxSeconds: base * 64 }) * 1000,
        undefined,
        { signal },
      );
    }
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
      const text = gb ? iconv.decode(bytes, 'gb18030') : bytes.toString('utf8');
      const held = gb ? 0 : bytes.toString('latin1').split('\xEF\xBF\xBD').length - 1;
      try {
        const damaged = replacements(text) > held;
        // On a damaged page, a value with U+FFFD is damaged unless the answer holds it byte for byte.
        const isDamaged = (v: string) => damaged && (gb || !bytes.includes(Buffer.from(v, 'utf8')));
        return { body: JSON.parse(text) as unknown, isDamaged };
      } catch {
        throw dataError(`${shown(url)}: the answer is not JSON`);
      }
    }
    if (res.status === 401 || res.status === 403) {
      throw configError(
        `${shown(url)}: HTTP ${res.status}: the API refused the token${cfg.token_env ? ` in ${cfg.token_env}` : ' (none configured: token_env)'}`,
      );
    }
    if (res.status < 500 && res.status !== 429) throw configError(`${shown(url)}: HTTP ${res.status}`);
    lastError = `HTTP ${res.status}`;
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
  if (cfg.token_env) {
    const token = process.env[cfg.token_env];
    if (!token) throw configError(`${cfg.token_env} is not set: it must hold the API token`);
    headers.authorization = `Bearer ${token}`;
  }
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
    const { body, isDamaged } = await getJson(cfg, url, headers, options.signal);
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
      if (bad.length) {
        yield textDamaged(columns, bad, JSON.stringify(r), { source, row: n }, 'valid UTF-8 in the answer');
        continue;
      }
      yield { type: 'record', cells, position: { source, row: n } };
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
      page++;
      offset += records.length;
    }
  }
  if (cfg.cursor_field && (max ?? options.cursor) !== undefined)
    yield { type: 'checkpoint', cursor: (max ?? options.cursor)! };
}

export const httpConnector: Connector<HttpConfig> = {
  kind: 'http',
  describe: () => HttpConfigSchema,
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
