/**
 * A paged HTTP/JSON API as a source, against a real local server started here: page/offset/cursor paging,
 * a short page in the middle that must not end the read, retries on 503 and on a timeout, no retry on 404,
 * a refused token named by its variable (never shown), and an incremental feed resumed from its checkpoint
 * through the loader.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadMessage } from '../../connectors/connector.ts';
import { type HttpConfig, HttpConfigSchema, httpConnector } from '../../connectors/http/http-connector.ts';
import { deaths } from '../../pipelines/feeds/deaths.ts';
import { configuredSource, importFeed } from '../../src/load/import-feed.ts';
import { silentLogger } from '../../src/log.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { testId } from '../support/demo.ts';
import { testWarehouse } from '../support/warehouse.ts';

const TOKEN = 'tok-S3NTINEL-http';
const id = (n: number) => testId(n, '52010219400101');
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

beforeAll(async () => {
  wh = await testWarehouse('httpsrc');
  server = createServer((req, res) => {
    calls.push(req.url!);
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

  it('quarantines a record whose text is not valid UTF-8 as text_damaged, keeps a real U+FFFD, reads GBK answers', async () => {
    const ms = await read({ ...common, url: `${base}/damaged`, paging: { kind: 'cursor' } });
    expect(names(ms)).toEqual(['李\uFFFD四', '王五']);
    expect(ms.filter((m) => m.type === 'problem')).toEqual([
      expect.objectContaining({
        problem: 'text_damaged',
        field: 'xm',
        position: expect.objectContaining({ row: 1 }),
      }),
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
      header_aliases: { name: ['xm'], id_number: ['sfzh'], died_on: ['swrq'], deregistered_on: ['zxrq'] },
      max_shrink: 1,
      source: HttpConfigSchema.parse({
        ...common,
        url: `${base}/cursor`,
        paging: { kind: 'cursor' },
        since_param: 'since',
        cursor_field: 'zxrq',
        fields: ['xm', 'sfzh', 'swrq', 'zxrq'],
      }),
    };
    const run = () =>
      importFeed({
        wh,
        feed: deaths,
        feedConfig,
        source: configuredSource(deaths, feedConfig),
        log: silentLogger(),
        today: '2026-11-24',
        timeZone: 'Asia/Shanghai',
      });
    expect((await run()).counts).toMatchObject({ rows_read: 11, rows_new: 11 });
    people.push({ xm: '死者12', sfzh: id(12), swrq: '2026-11-01', zxrq: '2026-11-02' });
    const second = await run();
    // Asked since 2026-10-20: the boundary record again (unchanged) and the new one.
    expect(second.counts).toMatchObject({ rows_read: 2, rows_new: 1, rows_unchanged: 1 });
    expect(calls.at(-1)).toMatch(/since=2026-10-20/);
    const state = await wh.db
      .selectFrom('feed_state')
      .select('cursor')
      .where('feed', '=', 'deaths')
      .executeTakeFirstOrThrow();
    expect(state.cursor).toBe('2026-11-02');
  });
});
