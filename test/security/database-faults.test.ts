/**
 * Issue 24 item 3: faults between the loader and PostgreSQL, through a TCP proxy that breaks the connection
 * in the middle of the staging COPY (test/support/fault-proxy.ts). Whatever the fault, the import ends within
 * its configured timeouts as a transient error (exit 75), never an unhandled 'error' event; its run is recorded
 * failed with the reason — or, when the database cannot be reached at all, marked abandoned by the next run;
 * the feed's lock is released; and the next run, straight to the server, loads the file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RuralHubError } from '../../core/errors.ts';
import { silentLogger } from '../../core/log.ts';
import { roster } from '../../pipelines/feeds/roster.ts';
import { writeRoster } from '../../src/demo/bulk-roster.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import {
  createDb,
  createPool,
  type DbTimeouts,
  databaseFault,
  type Warehouse,
} from '../../src/warehouse/connect.ts';
import { tryFeedLock } from '../../src/warehouse/ledger.ts';
import { runCli } from '../support/cli.ts';
import { type FaultProxy, type FaultProxyOptions, faultProxy } from '../support/fault-proxy.ts';
import { tempDir } from '../support/files.ts';
import { databaseUrl, importRuns, testWarehouse } from '../support/warehouse.ts';

const ROWS = 100_000; // ~13 MB: more than the sockets' buffers hold, so a stalled COPY stops draining
const dir = tempDir('ruralhub-dbfaults-');
// Each test loads the other file: every record differs from the current versions, so all of it is staged.
const files = [join(dir, 'roster.csv'), join(dir, 'roster-changed.csv')];
let file = files[0]!;
let turn = 0;
const base = { log: silentLogger(), today: '2026-11-24', timeZone: 'Asia/Shanghai' };
let wh: Warehouse;
let config: string;

/** Small limits, so that each fault ends in seconds. */
const SMALL: Partial<DbTimeouts> = {
  connectMs: 2000,
  statementMs: 4000,
  loadStatementMs: 4000,
  idleInTransactionMs: 4000,
  copyStallMs: 1500,
  graceMs: 1500,
};
const SMALL_ENV = {
  RURALHUB_DB_CONNECT_TIMEOUT: '2',
  RURALHUB_DB_STATEMENT_TIMEOUT: '4',
  RURALHUB_DB_LOAD_STATEMENT_TIMEOUT: '4',
  RURALHUB_DB_IDLE_IN_TRANSACTION_TIMEOUT: '4',
  RURALHUB_DB_COPY_STALL_TIMEOUT: '1.5',
  RURALHUB_DB_GRACE: '1.5',
};
/** The longest any of these faults may take: the COPY's stall or the answer's wait, then bounded cleanup. */
const BOUND_MS = 20_000;

const target = () => {
  const u = new URL(databaseUrl());
  return { host: u.hostname, port: Number(u.port || 5432) };
};

/** A proxy in front of the test's server: half a MiB into a staging COPY, `fault` on that connection or on all (`scope`). */
const breakCopy = (fault: FaultProxyOptions['fault'], scope: FaultProxyOptions['scope']) =>
  faultProxy({ target: target(), fault, scope, afterBytes: 512 * 1024 });

/** The warehouse through the proxy, with small limits. */
function proxied(proxy: FaultProxy): Warehouse {
  const url = proxy.urlFor(databaseUrl());
  const pool = createPool(url, wh.schema, 4, SMALL);
  const db = createDb(pool);
  return {
    db,
    pool,
    schema: wh.schema,
    where: 'proxy',
    embedded: false,
    connectionUrl: () => url,
    close: () => db.destroy(),
  };
}

/** Nothing holds the feed's lock any more (the proxied sessions ended or unlocked). */
async function expectLockFree(): Promise<void> {
  const unlock = await tryFeedLock(wh.pool, wh.schema, 'roster');
  expect(unlock).not.toBeNull();
  await unlock?.();
}

/** The next run, straight to the server, loads the whole file (anything newer than `after` in the ledger). */
async function expectNextRunLoads(): Promise<void> {
  const s = await importFeed({ wh, feed: roster, path: file, force: true, ...base });
  expect(s.status).toBe('succeeded');
  expect(s.counts.rows_loaded).toBe(ROWS);
}

function cli(proxy: FaultProxy) {
  return runCli(
    ['--config', config, 'import', 'roster', '--file', file, '--as-of', '2026-11-24', '--force'],
    {
      env: {
        ...process.env,
        RH_FAULT_URL: proxy.urlFor(databaseUrl()),
        RURALHUB_LOG_LEVEL: 'warn',
        ...SMALL_ENV,
      },
      timeoutMs: 60_000,
    },
  );
}

beforeAll(async () => {
  wh = await testWarehouse('dbfaults');
  await writeRoster(files[0]!, ROWS);
  await writeRoster(files[1]!, ROWS, 1);
  config = join(dir, 'faults.yaml');
  writeFileSync(
    config,
    `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_FAULT_URL, schema: ${wh.schema} }\n`,
  );
}, 120_000);
afterAll(async () => wh?.close());
beforeEach(() => {
  file = files[turn++ % 2]!;
});

describe('a database connection that breaks during the staging COPY', () => {
  it('stalled: the COPY watchdog gives it up, the run is failed with the reason, the lock released', async () => {
    const proxy = await breakCopy('stall', 'copy');
    const pwh = proxied(proxy);
    try {
      const t0 = Date.now();
      const err = await importFeed({ wh: pwh, feed: roster, path: file, ...base }).then(
        () => null,
        (e: unknown) => e,
      );
      const took = Date.now() - t0;
      await proxy.faulted;
      expect(err).toBeInstanceOf(RuralHubError);
      expect((err as RuralHubError).kind).toBe('transient');
      expect((err as Error).message).toMatch(/took no COPY data|did not answer/);
      expect(took).toBeLessThan(BOUND_MS);
      const runs = await importRuns(wh);
      expect(runs.at(-1)).toMatchObject({ status: 'failed' });
      expect(runs.at(-1)?.error).toMatch(/took no COPY data|did not answer/);
      // The stalled session was ended by the server on request (it held the staging table).
      await expectLockFree();
    } finally {
      await pwh.close();
      await proxy.close();
    }
    await expectNextRunLoads();
  });

  it('reset (ECONNRESET): `ruralhub import` exits 75, the run is failed, the lock released', async () => {
    const proxy = await breakCopy('reset', 'copy');
    try {
      const before = (await importRuns(wh)).length;
      const t0 = Date.now();
      const r = await cli(proxy);
      expect(Date.now() - t0).toBeLessThan(BOUND_MS + 5000); // the CLI's own start included
      expect(r.stderr).not.toMatch(/Unhandled|uncaught|at .*node:/i);
      expect(r.stderr).toMatch(/transient error/);
      expect(r.code).toBe(75);
      const runs = await importRuns(wh);
      expect(runs.length).toBe(before + 1);
      expect(runs.at(-1)).toMatchObject({ status: 'failed' });
      expect(runs.at(-1)?.error).toMatch(/database connection|Connection terminated|ECONNRESET/);
      await expectLockFree();
    } finally {
      await proxy.close();
    }
    await expectNextRunLoads();
  });

  it('every connection stalled: `ruralhub import` exits 75 in bounded time; the next run marks it abandoned', async () => {
    const proxy = await breakCopy('stall', 'all');
    let runId: number | undefined;
    try {
      const t0 = Date.now();
      const r = await cli(proxy);
      expect(Date.now() - t0).toBeLessThan(BOUND_MS + 5000);
      expect(r.stderr).not.toMatch(/Unhandled|uncaught|at .*node:/i);
      expect(r.code).toBe(75);
      // The database could not be told: the run is still `running`, its process gone.
      const runs = await importRuns(wh);
      expect(runs.at(-1)).toMatchObject({ status: 'running' });
      runId = runs.at(-1)?.id;
    } finally {
      // The hung path goes away (its sockets closed): the server ends the sessions, the lock with them.
      await proxy.close();
    }
    await waitForLock();
    await expectNextRunLoads();
    const dead = (await importRuns(wh)).find((r) => r.id === runId);
    expect(dead).toMatchObject({ status: 'failed' });
    expect(dead?.error).toMatch(/abandoned/);
  });

  it('the server gone (every connection reset, new ones refused): exit 75; the next run marks it abandoned', async () => {
    const proxy = await breakCopy('reset', 'all');
    try {
      const r = await cli(proxy);
      expect(r.stderr).not.toMatch(/Unhandled|uncaught|at .*node:/i);
      expect(r.code).toBe(75);
      expect((await importRuns(wh)).at(-1)).toMatchObject({ status: 'running' });
    } finally {
      await proxy.close();
    }
    await waitForLock();
    await expectNextRunLoads();
    const runs = await importRuns(wh);
    expect(runs.at(-2)).toMatchObject({ status: 'failed' });
    expect(runs.at(-2)?.error).toMatch(/abandoned/);
  });
});

describe('databaseFault', () => {
  it('names connection faults and timeouts as transient, nothing else', () => {
    const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    expect(databaseFault(coded('ECONNRESET'))?.kind).toBe('transient');
    expect(databaseFault(coded('EPIPE'))?.kind).toBe('transient');
    expect(databaseFault(coded('57014', 'canceling statement due to statement timeout'))?.message).toMatch(
      /RURALHUB_DB_STATEMENT_TIMEOUT/,
    );
    expect(databaseFault(coded('57P01'))?.kind).toBe('transient');
    expect(databaseFault(new Error('Connection terminated unexpectedly'))?.kind).toBe('transient');
    expect(databaseFault(coded('23505'))).toBeNull();
    expect(databaseFault(new Error('boom'))).toBeNull();
  });
});

/** The killed sessions end a moment after their sockets close: wait until the feed's lock is free. */
async function waitForLock(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const unlock = await tryFeedLock(wh.pool, wh.schema, 'roster');
    if (unlock) return unlock();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the feed lock was never released');
}
