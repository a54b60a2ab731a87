/**
 * A paged HTTP/JSON API as a source, against a real local server started here: page/offset/cursor paging,
 * a short page in the middle that must not end the read, retries on 503 and on a timeout, no retry on 404,
 * a refused token named by its variable (never shown), and an incremental feed resumed from its checkpoint
 * through the loader. Then the long-read scenarios: a reported total that the records read must match (a lost
 * page fails the run), Retry-After honoured up to a cap, and a token that expires mid-read obtained again.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadMessage } from '../../connectors/connector.ts';
import { httpConnector, retryAfterMs } from '../../connectors/http/http-connector.ts';
import { silentLogger } from '../../core/log.ts';
import { deaths } from '../../pipelines/feeds/deaths.ts';
import { type HttpConfig, HttpConfigSchema, SourceConfigSchema } from '../../schemas/sources.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testId } from '../support/demo.ts';
import { importFromSource } from '../support/loads.ts';
import { feedState, testWarehouse } from '../support/warehouse.ts';

const TOKEN = 'tok-S3NTINEL-http';
const id = (n: number) => testId(n, '52010219400101');
/** The API's field names, as the deaths feed's headers. */
const ALIASES = { name: ['xm'], id_number: ['sfzh'], died_on: ['swrq'], deregistered_on: ['zxrq'] };
/** The department's data: 11 deaths, registration dates growing. */
const people = Array.from({ length: 11 }, (_, i) => ({
  xm: `死者${i + 1}`,
  sfzh: id(i + 1),
  swrq: '2026-10-01',
  zxrq: `2026-10-${String(10 + i).padStart(2, '0')}`,
}));
const calls: string[] = [];
let failNext: 'none' | '503' | 'hang' = 'none';
let server: Server;
let base: string;
let wh: Warehouse;

function handle(req: IncomingMessage) {
  const u = new URL(req.url!, 'http://x');
  const since = u.searchParams.get('since');
  const rows = people.filter((p) => !since || p.zxrq >= since);
  if (u.pathname === '/page') {
    const page = Number(u.searchParams.get('page'));
    const size = Number(u.searchParams.get('size'));
    // Page 2 is short (the API filtered a row): not the end; only has_more says so.
    // (It serves the held-back row with page 3.)
    const slice = rows.slice((page - 1) * size, page * size).filter((_, i) => !(page === 2 && i === 0));
    return { data: [...slice, ...(page === 3 ? [rows[size]!] : [])], has_more: page * size < rows.length };
  }
  if (u.pathname === '/offset') {
    const offset = Number(u.searchParams.get('offset'));
    const limit = Number(u.searchParams.get('limit'));
    return { result: { items: rows.slice(offset, offset + limit) }, has_more: offset + limit < rows.length };
  }
  const at = Number(u.searchParams.get('cursor') ?? 0);
  return { data: rows.slice(at, at + 5), next_cursor: at + 5 < rows.length ? String(at + 5) : null };
}

/** The long-read scenarios under /x/: what the next answers do. */
const x = {
  /** /x/total: 'lose' skips the second page (the API jumps ahead); 'grow' reports one more from page 2. */
  total: 'ok' as 'ok' | 'lose' | 'grow',
  /** /x/busy: answers to give before the data, with their Retry-After. */
  busy: [] as { status: number; retryAfter: string }[],
  /** /x/expiring: the token accepted now; page 2 onwards rotates it to `next` (written to `tokenFile`). */
  token: '',
  next: '',
  tokenFile: '',
};

async function scenario(req: IncomingMessage, res: ServerResponse, u: URL): Promise<void> {
  const send = (status: number, body: unknown) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  };
  if (u.pathname === '/x/total') {
    const offset = Number(u.searchParams.get('offset'));
    const limit = Number(u.searchParams.get('limit'));
    const rows = people.slice(0, 11);
    const from = x.total === 'lose' && offset > 0 ? offset + limit : offset; // page 2 never served
    return send(200, {
      items: rows.slice(from, from + limit),
      total: x.total === 'grow' && offset > 0 ? rows.length + 1 : String(rows.length),
      has_more: from + limit < rows.length,
    });
  }
  if (u.pathname === '/x/busy') {
    const next = x.busy.shift();
    if (next) {
      res.setHeader('retry-after', next.retryAfter);
      return send(next.status, {});
    }
    return send(200, { data: people.slice(0, 2), next_cursor: null });
  }
  if (u.pathname === '/x/expiring') {
    if (req.headers.authorization !== `Bearer ${x.token}`) return send(401, {});
    const at = Number(u.searchParams.get('cursor') ?? 0);
    if (at > 0 && x.next) {
      // Expires now, after a page was read with it: the token command gives the next one from here on.
      x.token = x.next;
      x.next = '';
      await writeFile(x.tokenFile, x.token);
      return send(401, {});
    }
    return send(200, {
      data: people.slice(at, at + 4),
      next_cursor: at + 4 < people.length ? String(at + 4) : null,
    });
  }
  send(404, {});
}

beforeAll(async () => {
  wh = await testWarehouse('httpsrc');
  server = createServer((req, res) => {
    calls.push(req.url!);
    if (req.url!.startsWith('/x/')) return void scenario(req, res, new URL(req.url!, 'http://x'));
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.statusCode = 401;
      return res.end('{}');
    }
    if (req.url!.startsWith('/missing')) {
      res.statusCode = 404;
      return res.end('{}');
    }
    if (failNext === '503') {
      failNext = 'none';
      res.statusCode = 503;
      return res.end('{}');
    }
    if (req.url!.startsWith('/damaged')) {
      // One name's last byte cut: the JSON is still JSON, that string is not UTF-8. The other holds a real U+FFFD.
      res.setHeader('content-type', 'application/json; charset=utf-8');
      const body = Buffer.from(
        JSON.stringify({ data: [{ xm: '张三X' }, { xm: '李\uFFFD四' }, { xm: '王五' }], next_cursor: null }),
      );
      const at = body.indexOf(Buffer.from('三X'));
      return res.end(Buffer.concat([body.subarray(0, at + 2), body.subarray(at + 3)])); // drop 三's last byte
    }
    if (req.url!.startsWith('/gbk')) {
      res.setHeader('content-type', 'application/json; charset=GBK');
      return res.end(
        iconv.encode(JSON.stringify({ data: [{ xm: '赵六𠀀' }], next_cursor: null }), 'gb18030'),
      );
    }
    if (failNext === 'hang') {
      failNext = 'none';
      return; // never answers: the client's timeout must fire
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(handle(req)));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.RH_TEST_API_TOKEN = TOKEN;
});
afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  delete process.env.RH_TEST_API_TOKEN;
  await wh?.close();
});

async function read(cfg: HttpConfig, cursor?: string) {
  const out: ReadMessage[] = [];
  for await (const m of httpConnector.read(cfg, cursor ? { cursor } : {})) out.push(m);
  return out;
}
const names = (ms: ReadMessage[]) => ms.flatMap((m) => (m.type === 'record' ? [m.cells[0]] : []));

describe('an HTTP/JSON API source', () => {
  const common = { token_env: 'RH_TEST_API_TOKEN', backoff_ms: 10, timeout_ms: 500 } as const;

  it('pages by page/size through a short page until the API says there is no more', async () => {
    const ms = await read({ ...common, url: `${base}/page`, paging: { kind: 'page', size: 4 } });
    expect(ms[0]).toMatchObject({ type: 'header', columns: ['xm', 'sfzh', 'swrq', 'zxrq'] });
    expect(names(ms).sort()).toEqual(people.map((p) => p.xm).sort());
  });

  it('pages by offset and by next-cursor, reading records from a nested field', async () => {
    const off = await read({
      ...common,
      url: `${base}/offset`,
      paging: { kind: 'offset', limit: 3 },
      records_field: 'result.items',
    });
    expect(names(off)).toEqual(people.map((p) => p.xm));
    const cur = await read({ ...common, url: `${base}/cursor`, paging: { kind: 'cursor' } });
    expect(names(cur)).toEqual(people.map((p) => p.xm));
  });

  it('marks a value that is not valid UTF-8 as damaged, keeps a real U+FFFD, reads GBK answers', async () => {
    const ms = await read({ ...common, url: `${base}/damaged`, paging: { kind: 'cursor' } });
    // the damaged name is marked (the loader quarantines it); a U+FFFD the answer really holds is text
    expect(ms.flatMap((m) => (m.type === 'record' ? [[m.cells[0], m.damaged ?? []]] : []))).toEqual([
      [expect.stringMatching(/^张\uFFFD/), [0]],
      ['李\uFFFD四', []],
      ['王五', []],
    ]);
    // Without damage elsewhere on the page, a U+FFFD the answer really holds is text.
    const gbk = await read({ ...common, url: `${base}/gbk`, paging: { kind: 'cursor' } });
    expect(names(gbk)).toEqual(['赵六𠀀']);
  });

  it('retries a 503 and a request that never answers, and does not retry a 404', async () => {
    calls.length = 0;
    failNext = '503';
    expect(names(await read({ ...common, url: `${base}/cursor`, paging: { kind: 'cursor' } }))).toHaveLength(
      11,
    );
    expect(calls.length).toBe(4); // three pages, the first asked twice
    failNext = 'hang';
    expect(names(await read({ ...common, url: `${base}/cursor`, paging: { kind: 'cursor' } }))).toHaveLength(
      11,
    );
    calls.length = 0;
    await expect(read({ ...common, url: `${base}/missing`, paging: { kind: 'cursor' } })).rejects.toThrow(
      /\/missing: HTTP 404$/,
    );
    expect(calls).toHaveLength(1); // asked once: a 404 does not get better by asking again
  });

  it('names a refused token by its variable, never by its value', async () => {
    process.env.RH_TEST_WRONG = 'wrong-S3NTINEL';
    const err = await read({
      ...common,
      token_env: 'RH_TEST_WRONG',
      url: `${base}/cursor?key=S3NTINEL`,
      paging: { kind: 'cursor' },
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe(
      `${base}/cursor: HTTP 401: the API refused the token in RH_TEST_WRONG`,
    );
    expect((err as Error).message).not.toMatch(/S3NTINEL/);
  });

  it('resumes an incremental feed from the checkpoint through the loader', async () => {
    const feedConfig = {
      header_aliases: ALIASES,
      max_shrink: 1,
      source: SourceConfigSchema.parse({
        kind: 'http',
        ...common,
        url: `${base}/cursor`,
        paging: { kind: 'cursor' },
        since_param: 'since',
        cursor_field: 'zxrq',
        fields: ['xm', 'sfzh', 'swrq', 'zxrq'],
      }),
    };
    const run = () => importFromSource(wh, deaths, feedConfig, silentLogger());
    expect((await run()).counts).toMatchObject({ rows_read: 11, rows_new: 11 });
    people.push({ xm: '死者12', sfzh: id(12), swrq: '2026-11-01', zxrq: '2026-11-02' });
    const second = await run();
    // Asked since 2026-10-20: the boundary record again (unchanged) and the new one.
    expect(second.counts).toMatchObject({ rows_read: 2, rows_new: 1, rows_unchanged: 1 });
    expect(calls.at(-1)).toMatch(/since=2026-10-20/);
    expect((await feedState(wh.db, 'deaths')).cursor).toBe('2026-11-02');
  });
});

describe('long reads of an HTTP/JSON API', () => {
  const common = { token_env: 'RH_TEST_API_TOKEN', backoff_ms: 10, timeout_ms: 2000 } as const;
  const totalCfg: HttpConfig = {
    ...common,
    url: `${base}/x/total`,
    paging: { kind: 'offset', limit: 4 },
    records_field: 'items',
    total_field: 'total',
  };

  it('checks the records read against the total the API reports: a lost page fails the run, the warehouse unchanged', async () => {
    x.total = 'ok';
    expect(names(await read({ ...totalCfg, url: `${base}/x/total` }))).toHaveLength(11);
    x.total = 'grow';
    await expect(read({ ...totalCfg, url: `${base}/x/total` })).rejects.toThrow(
      /the API's total changed during the read, from 11 to 12/,
    );
    x.total = 'lose';
    const feedConfig = {
      header_aliases: ALIASES,
      // a config written before `kind`: told an API by its `url`
      source: SourceConfigSchema.parse({ ...totalCfg, url: `${base}/x/total` }),
    };
    const before = await wh.db
      .selectFrom('deaths')
      .select(wh.db.fn.countAll<string>().as('n'))
      .executeTakeFirst();
    const err = await importFromSource(wh, deaths, feedConfig, silentLogger()).catch(
      (e: unknown) => e as Error,
    );
    const message = `${base}/x/total: the API reported 11 records in 'total', 7 were read over 2 pages: a page was lost`;
    expect((err as Error).message).toBe(message);
    const run = await wh.db
      .selectFrom('runs')
      .select(['status', 'error'])
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(run).toEqual({ status: 'failed', error: message });
    const after = await wh.db
      .selectFrom('deaths')
      .select(wh.db.fn.countAll<string>().as('n'))
      .executeTakeFirst();
    expect(after).toEqual(before);
  });

  it('waits what a 429 or 503 Retry-After asks (seconds or an HTTP date), and fails at once beyond the cap', async () => {
    const now = Date.parse('2026-11-24T08:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Tue, 24 Nov 2026 08:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Tue, 24 Nov 2026 07:59:00 GMT', now)).toBe(0);
    expect(retryAfterMs('5.5', now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();

    const cfg: HttpConfig = { ...common, url: `${base}/x/busy`, paging: { kind: 'cursor' }, backoff_ms: 1 };
    // An HTTP date has whole seconds: 3 s ahead of t0 is more than 2 s after it, 1 s of which the 429 waited.
    x.busy = [
      { status: 429, retryAfter: '1' },
      { status: 503, retryAfter: new Date(Date.now() + 3000).toUTCString() },
    ];
    const t0 = Date.now();
    expect(names(await read(cfg))).toHaveLength(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900); // the 1 ms backoff was not what waited
    calls.length = 0;
    x.busy = [{ status: 429, retryAfter: '3600' }];
    await expect(read({ ...cfg, retry_after_max_ms: 5000 })).rejects.toThrow(
      `${base}/x/busy: HTTP 429: the API asks to wait 3600 s, more than retry_after_max_ms (5 s)`,
    );
    expect(calls).toHaveLength(1);
    x.busy = [];
  });

  it('obtains a token that expired mid-read again from its command, once, and never shows it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rh-token-'));
    try {
      x.tokenFile = join(dir, 'token');
      x.token = 'first-S3NTINEL';
      x.next = 'second-S3NTINEL';
      await writeFile(x.tokenFile, x.token);
      // A program printing the current token, run without a shell.
      const token_command = [
        process.execPath,
        '-e',
        'process.stdout.write(require("node:fs").readFileSync(process.argv[1], "utf8"))',
        x.tokenFile,
      ];
      const cfg: HttpConfig = {
        ...common,
        token_env: undefined,
        token_command,
        url: `${base}/x/expiring`,
        paging: { kind: 'cursor' },
      };
      calls.length = 0;
      expect(names(await read(cfg))).toEqual(people.map((p) => p.xm));
      expect(calls.filter((c) => c.includes('cursor=4'))).toHaveLength(2); // refused, then asked with the new one

      // From a variable nobody renews: obtained again, unchanged, so refused as before (named, never shown).
      x.next = 'third-S3NTINEL';
      process.env.RH_TEST_EXPIRING = x.token;
      const viaEnv = await read({ ...cfg, token_command: undefined, token_env: 'RH_TEST_EXPIRING' }).catch(
        (e: unknown) => e as Error,
      );
      expect((viaEnv as Error).message).toBe(
        `${base}/x/expiring: HTTP 401: the API refused the token in RH_TEST_EXPIRING (obtained again after an earlier page: refused or unchanged)`,
      );

      // A failing command: named with its exit status, not its output (which may hold a token).
      const failing = await read({
        ...cfg,
        token_command: [process.execPath, '-e', 'console.error("fail-S3NTINEL"); process.exit(3)'],
      }).catch((e: unknown) => e as Error);
      expect((failing as Error).message).toBe(`token_command ${process.execPath} failed (exit 3)`);
      for (const e of [viaEnv, failing]) expect((e as Error).message).not.toMatch(/S3NTINEL/);
      expect(
        HttpConfigSchema.safeParse({ ...cfg, token_env: 'RH_TEST_EXPIRING' }).error?.issues[0]?.message,
      ).toBe('token_env or token_command, not both');
    } finally {
      delete process.env.RH_TEST_EXPIRING;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
