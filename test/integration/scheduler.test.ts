/**
 * The scheduler against real PostgreSQL, with simulated time: two real scheduler processes over one day run
 * each slot once; transient faults are retried with backoff up to the attempt limit, config errors are not;
 * a busy feed is skipped, not failed; a stale feed holds its match suite; catch-up after a downtime is
 * bounded by the window; a dead scheduler's claim and run are recovered.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transientError } from '../../core/errors.ts';
import { silentLogger } from '../../core/log.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import type { Alert } from '../../src/scheduler/alerts.ts';
import type { executeJob } from '../../src/scheduler/jobs.ts';
import { tick } from '../../src/scheduler/tick.ts';
import { sessionName, type Warehouse } from '../../src/warehouse/connect.ts';
import { tryFeedLock } from '../../src/warehouse/ledger.ts';
import { BIN, runCli } from '../support/cli.ts';
import { testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { databaseUrl, dropWarehouse, testWarehouse } from '../support/warehouse.ts';

const dir = tempDir('ruralhub-scheduler-');
const log = silentLogger();
const id = (n: number) => testId(n);
const roster = writeCsv(join(dir, 'roster.csv'), [
  ['户编号', '姓名', '证件号码', '与户主关系', '户类型'],
  ['H1', '张三', id(1), '户主', '监测户'],
  ['H2', '李四', id(2), '户主', '监测户'],
]);
const insurance = writeCsv(join(dir, 'insurance.csv'), [
  ['姓名', '公民身份号码', '险种', '参保年度', '参保状态'],
  ['张三', id(1), '城乡居民', '2026', '正常参保'],
]);

const JOBS = `
scheduler:
  catch_up_hours: 1
  max_attempts: 3
  backoff_base_seconds: 60
  jobs:
    roster-hourly: { kind: import, feed: roster, path: "${roster}", cron: "0 * * * *" }
    insurance-daily: { kind: import, feed: insurance, path: "${insurance}", cron: "30 1 * * *" }
    match-6h: { kind: match, rules: [R02], needs: [roster, insurance], cron: "0 */6 * * *" }
`;

let wh: Warehouse;
beforeAll(async () => {
  wh = await testWarehouse('scheduler');
});
afterAll(async () => wh?.close());

const slots = (job: string) =>
  wh.db
    .selectFrom('job_slots')
    .select(['slot', 'status', 'attempts', 'run_ids', 'error', 'next_attempt_at'])
    .where('job', '=', job)
    .orderBy('slot')
    .execute();

function config(jobs: string, schema = wh.schema) {
  return parseConfig(
    `county: { name: 示范县, code: "520102" }\ndatabase: { schema: ${schema} }\n${jobs}`,
    'inline',
  );
}

describe('two scheduler processes over a simulated day', () => {
  it('run every slot exactly once between them, and hold the match suite until its feeds have loaded', async () => {
    const schema = `${wh.schema}_two`;
    const file = join(dir, 'two.yaml');
    writeFileSync(
      file,
      `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_TEST_URL, schema: ${schema} }\n${JOBS}`,
    );
    const env = { ...process.env, DATABASE_URL: '', RH_TEST_URL: databaseUrl(), RURALHUB_LOG_LEVEL: 'error' };
    expect((await runCli(['--config', file, 'migrate'], { env })).code).toBe(0);
    const args = [
      BIN,
      '--config',
      file,
      'scheduler',
      '--simulate',
      '2026-11-20T00:00:00+08:00',
      '--until',
      '2026-11-20T23:59:00+08:00',
      '--step',
      '20',
    ];
    const run = () =>
      new Promise<{ code: number | null; stderr: string }>((done) => {
        const p = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        p.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
        });
        p.on('exit', (code) => done({ code, stderr }));
      });
    const both = await Promise.all([run(), run()]);
    expect(
      both.map((b) => b.code),
      both.map((b) => b.stderr).join('\n'),
    ).toEqual([0, 0]);

    const db = (await import('../../src/warehouse/connect.ts')).createDb(
      (await import('../../src/warehouse/connect.ts')).createPool(databaseUrl(), schema),
    );
    try {
      const rows = await db
        .selectFrom('job_slots')
        .select(['job', 'slot', 'status', 'run_ids', 'error'])
        .orderBy('job')
        .orderBy('slot')
        .execute();
      const byJob = (j: string) => rows.filter((r) => r.job === j);
      // 24 hourly slots, one daily, four six-hourly: each recorded once (the primary key), none lost.
      expect(byJob('roster-hourly')).toHaveLength(24);
      expect(byJob('insurance-daily')).toHaveLength(1);
      expect(byJob('match-6h')).toHaveLength(4);
      // Each slot ran at most once: no run id is shared, and every succeeded import slot has exactly one run.
      const runIds = rows.flatMap((r) => r.run_ids.map(Number));
      expect(new Set(runIds).size).toBe(runIds.length);
      for (const r of byJob('roster-hourly')) {
        // Both processes may import roster at the same moment for different slots: the later is skipped.
        expect(['succeeded', 'skipped']).toContain(r.status);
        expect(r.run_ids).toHaveLength(r.status === 'succeeded' ? 1 : 0);
      }
      const imports = await db
        .selectFrom('runs')
        .select(['status'])
        .where('kind', '=', 'import')
        .where('feed', '=', 'roster')
        .execute();
      const loaded = imports.filter((i) => i.status === 'succeeded' || i.status === 'noop');
      expect(loaded).toHaveLength(byJob('roster-hourly').filter((r) => r.status === 'succeeded').length);
      // Midnight: insurance had not loaded yet, so the suite was held. Whether it was then given up (its window
      // closed first) or ran (the other process, further along the simulated day, had loaded insurance by
      // its re-check) depends on the two processes' pace; both are right. The same holds for a later slot when
      // the process that claimed insurance's 01:30 slot lags far behind the other (seen once in a full test
      // run on 2 cores), but not for the last: by 18:00 insurance has loaded. Holding is tested in process below.
      const matches = byJob('match-6h');
      for (const m of matches.slice(0, -1)) {
        if (m.status === 'failed') {
          expect(m.error).toMatch(/held until the catch-up window closed: feed insurance has never loaded/);
        } else expect(m.status).toBe('succeeded');
      }
      expect(matches.at(-1)!.status, String(matches.at(-1)!.error)).toBe('succeeded');
    } finally {
      await dropWarehouse(db, schema);
      await db.destroy();
    }
  }, 120_000);
});

describe('one tick at a time (in process)', () => {
  const alerts: Alert[] = [];
  const base = () => ({
    wh,
    log,
    me: sessionName(),
    alert: async (a: Alert) => {
      alerts.push(a);
    },
    random: () => 0.5,
  });

  it('retries transient faults with backoff up to the attempt limit and alerts once; config errors fail at once', async () => {
    const cfg = config(`
scheduler:
  max_attempts: 3
  backoff_base_seconds: 60
  jobs:
    flaky: { kind: lists, cron: "0 3 * * *" }
`);
    let calls = 0;
    const execute: typeof executeJob = async () => {
      calls++;
      throw transientError('source unreachable: connect ETIMEDOUT 10.0.0.9:3306');
    };
    const t0 = new Date('2026-11-20T03:00:30+08:00');
    let now = t0;
    const outcomes = [];
    for (let minute = 0; minute <= 10; minute++) {
      now = new Date(t0.getTime() + minute * 60_000);
      outcomes.push(...(await tick({ ...base(), config: cfg, now, execute })));
    }
    // Attempt 1 at 03:00:30; 2 after 45 s (60 s nominal, jitter 0.5 → 3/4); 3 after 90 s more; then failed.
    expect(outcomes.map((o) => [o.attempt, o.status])).toEqual([
      [1, 'retry'],
      [2, 'retry'],
      [3, 'failed'],
    ]);
    expect(calls).toBe(3);
    const [s] = await slots('flaky');
    expect(s).toMatchObject({ status: 'failed', attempts: 3 });
    expect(alerts).toEqual([
      {
        job: 'flaky',
        slot: '2026-11-20T03:00:00+08:00',
        status: 'failed',
        message: 'source unreachable: connect ETIMEDOUT 10.0.0.9:3306',
      },
    ]);

    const missing = config(`
scheduler:
  jobs:
    broken: { kind: import, feed: roster, path: "${join(dir, 'nope.csv')}", cron: "0 3 * * *" }
`);
    const [o] = await tick({ ...base(), config: missing, now: t0 });
    expect(o).toMatchObject({ attempt: 1, status: 'failed' });
    expect(o!.message).toMatch(/input file not found/);
  });

  it('holds a match suite while a feed it needs has not loaded, alerts once, and runs it once the feed arrives', async () => {
    const cfg = config(`
scheduler:
  catch_up_hours: 2
  jobs:
    suite: { kind: match, rules: [R02], needs: [roster, insurance], window_hours: 24, cron: "0 7 * * *" }
`);
    alerts.length = 0;
    await importFeed({
      wh,
      feed: resolveFeed('roster'),
      path: roster,
      log,
      today: '2026-11-22',
      timeZone: 'Asia/Shanghai',
    });
    const t0 = new Date('2026-11-22T07:00:20+08:00');
    const [held] = await tick({ ...base(), config: cfg, now: t0 });
    expect(held).toMatchObject({ status: 'held', message: 'feed insurance has never loaded' });
    expect(alerts).toEqual([
      expect.objectContaining({ job: 'suite', status: 'held', message: 'feed insurance has never loaded' }),
    ]);
    // Not due again before its re-check; at the re-check still held, and no second alert.
    expect(await tick({ ...base(), config: cfg, now: new Date(t0.getTime() + 5 * 60_000) })).toEqual([]);
    const [again] = await tick({ ...base(), config: cfg, now: new Date(t0.getTime() + 15 * 60_000) });
    expect(again).toMatchObject({ status: 'held', attempt: 1 });
    expect(alerts).toHaveLength(1);
    const matchRuns = await wh.db.selectFrom('runs').select('id').where('kind', '=', 'match').execute();
    expect(matchRuns).toHaveLength(0);
    // The feed arrives; the next re-check runs the suite.
    await importFeed({
      wh,
      feed: resolveFeed('insurance'),
      path: insurance,
      log,
      today: '2026-11-22',
      timeZone: 'Asia/Shanghai',
    });
    const [ran] = await tick({ ...base(), config: cfg, now: new Date(t0.getTime() + 30 * 60_000) });
    expect(ran).toMatchObject({ status: 'succeeded', attempt: 1 });
    expect(await wh.db.selectFrom('runs').select('id').where('kind', '=', 'match').execute()).toHaveLength(1);
  });

  it('records a slot whose feed is busy as skipped, with a skipped run, not as a failure', async () => {
    const cfg = config(`
scheduler:
  jobs:
    roster-busy: { kind: import, feed: roster, path: "${roster}", cron: "0 4 * * *" }
`);
    const unlock = await tryFeedLock(wh.pool, wh.schema, 'roster');
    try {
      const [o] = await tick({ ...base(), config: cfg, now: new Date('2026-11-20T04:00:10+08:00') });
      expect(o).toMatchObject({ status: 'skipped' });
      expect(o!.message).toMatch(/feed roster is being imported by .*; this run \(\d+\) was skipped/);
    } finally {
      await unlock!();
    }
    const skipped = await wh.db.selectFrom('runs').select('status').where('status', '=', 'skipped').execute();
    expect(skipped).toHaveLength(1);
  });

  it('after a downtime runs only the latest missed slot inside the window; older ones are not run', async () => {
    const cfg = config(`
scheduler:
  catch_up_hours: 6
  jobs:
    hourly: { kind: lists, cron: "0 * * * *" }
`);
    const ran: string[] = [];
    const execute: typeof executeJob = async (_job, c) => {
      ran.push(c.slot.toISOString());
      return { status: 'succeeded', runIds: [], summary: 'ok' };
    };
    // Down since the day before; back at 12:10.
    await tick({ ...base(), config: cfg, now: new Date('2026-11-21T12:10:00+08:00'), execute });
    expect(ran).toEqual(['2026-11-21T04:00:00.000Z']);
    const rows = await slots('hourly');
    expect(rows.map((r) => [r.slot.toISOString(), r.status])).toEqual([
      ['2026-11-20T23:00:00.000Z', 'skipped'],
      ['2026-11-21T00:00:00.000Z', 'skipped'],
      ['2026-11-21T01:00:00.000Z', 'skipped'],
      ['2026-11-21T02:00:00.000Z', 'skipped'],
      ['2026-11-21T03:00:00.000Z', 'skipped'],
      ['2026-11-21T04:00:00.000Z', 'succeeded'],
    ]);
  });

  it("recovers a dead scheduler's claim (retried) and its run (failed) on the next tick", async () => {
    const cfg = config(`
scheduler:
  jobs:
    orphan: { kind: lists, cron: "0 5 * * *" }
`);
    const slot = new Date('2026-11-21T21:00:00Z');
    await wh.db
      .insertInto('job_slots')
      .values({
        job: 'orphan',
        slot,
        kind: 'lists',
        status: 'running',
        attempts: 1,
        claimed_by: 'ruralhub:999999',
      })
      .execute();
    const dead = await wh.db
      .insertInto('runs')
      .values({ kind: 'import', feed: 'water', status: 'running', pid: 999_999 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const execute: typeof executeJob = async () => ({ status: 'succeeded', runIds: [], summary: 'ok' });
    const out = await tick({ ...base(), config: cfg, now: new Date('2026-11-22T05:01:00+08:00'), execute });
    expect(out.map((o) => [o.job, o.attempt, o.status])).toEqual([['orphan', 2, 'succeeded']]);
    const run = await wh.db
      .selectFrom('runs')
      .select(['status', 'error'])
      .where('id', '=', dead.id)
      .executeTakeFirst();
    expect(run).toEqual({ status: 'failed', error: 'abandoned: the process running it ended' });
  });
});
