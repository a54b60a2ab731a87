/**
 * `ruralhub status` verdicts from the ledger: fresh, stale, failing, missing and not-configured feeds; open and
 * overdue findings per rule; a failed scheduled slot; and the exit code a monitoring probe relies on.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import { collectStatus } from '../../src/scheduler/status.ts';
import { createDb, createPool, type Warehouse } from '../../src/warehouse/connect.ts';
import { migrate } from '../../src/warehouse/migrate.ts';
import { runCli } from '../support/cli.ts';
import { testId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { databaseUrl, dropWarehouse, testWarehouse } from '../support/warehouse.ts';

const dir = tempDir('ruralhub-status-');
const log = silentLogger();
const id = (n: number) => testId(n);
const CONFIG = `county: { name: 示范县, code: "520102" }
rules: { R01: { enabled: false }, R03: { enabled: false }, R04: { enabled: false }, R05: { enabled: false },
  R06: { enabled: false }, R07: { enabled: false }, R08: { enabled: false }, R09: { enabled: false },
  R11: { enabled: false }, R12: { enabled: false }, R13: { enabled: false } }
scheduler:
  jobs:
    roster-daily: { kind: import, feed: roster, path: /srv/drop/roster.csv, cron: "0 1 * * *" }
`;
const config = parseConfig(CONFIG, 'inline');
let wh: Warehouse;

async function load(feed: string, rows: string[][], header: string[]) {
  const path = writeCsv(join(dir, `${feed}.csv`), [header, ...rows]);
  return importFeed({
    wh,
    feed: resolveFeed(feed),
    path,
    log,
    today: '2026-11-24',
    timeZone: 'Asia/Shanghai',
  });
}

beforeAll(async () => {
  wh = await testWarehouse('status');
  await load(
    'roster',
    [
      ['H1', '张三', id(1), '户主', '监测户'],
      ['H2', '李四', id(2), '户主', '监测户'],
    ],
    ['户编号', '姓名', '证件号码', '与户主关系', '户类型'],
  );
  const ins = await load(
    'insurance',
    [['张三', id(1), '城乡居民', '2026', '正常参保']],
    ['姓名', '公民身份号码', '险种', '参保年度', '参保状态'],
  );
  // housing's only load: both rows read, both quarantined (IDs with a wrong check character, no person to link)
  const housing = await load(
    'housing',
    [
      ['王五', `${id(3).slice(0, 17)}${id(3).endsWith('1') ? '2' : '1'}`, 'C级'],
      ['赵六', `${id(4).slice(0, 17)}${id(4).endsWith('1') ? '2' : '1'}`, 'D级'],
    ],
    ['户主姓名', '户主身份证号', '房屋安全等级'],
  );
  expect(housing.counts).toMatchObject({ rows_read: 2, rows_loaded: 0, rows_quarantined: 2 });
  await runMatch({ wh, config, log, asOf: '2026-11-24', rules: ['R02'] });
  // The insurance load is 60 days old; water loaded once and then failed.
  await sql`UPDATE runs SET finished_at = now() - interval '60 days' WHERE id = ${ins.runId}`.execute(wh.db);
  await wh.db
    .insertInto('runs')
    .values([
      { kind: 'import', feed: 'water', status: 'succeeded', finished_at: new Date(Date.now() - 86_400_000) },
      // An export run at a known moment: 2026-12-02 01:30 in Asia/Shanghai.
      {
        kind: 'export',
        status: 'succeeded',
        started_at: new Date('2026-12-01T17:30:00Z'),
        finished_at: new Date('2026-12-01T17:30:04Z'),
      },
      {
        kind: 'import',
        feed: 'water',
        status: 'failed',
        finished_at: new Date(),
        error: 'water.csv: no header row found',
      },
    ])
    .execute();
  await wh.db
    .insertInto('job_slots')
    .values({
      job: 'roster-daily',
      slot: new Date('2026-11-24T17:00:00Z'),
      kind: 'import',
      status: 'failed',
      attempts: 3,
      error: 'input file not found: /srv/drop/roster.csv',
    })
    .execute();
});
afterAll(async () => wh?.close());

describe('ruralhub status', () => {
  it('gives each feed, rule and job a verdict from the ledger', async () => {
    const s = await collectStatus(wh, config, new Date());
    const feed = (f: string) => s.feeds.find((x) => x.feed === f)!;
    expect(feed('roster')).toMatchObject({
      verdict: 'ok',
      rows: 2,
      last_load: { read: 2, loaded: 2, quarantined: 0 },
      last_failure: null,
    });
    // succeeded, but nothing of it kept: not ok
    expect(feed('housing')).toMatchObject({
      verdict: 'nothing_kept',
      rows: 0,
      last_load: { read: 2, loaded: 0, quarantined: 2 },
    });
    expect(feed('deaths').last_load).toBeNull();
    // JSON keeps ISO 8601, with the county's offset: `0 1 * * *` is 01:00 in Asia/Shanghai.
    expect(feed('roster').next_scheduled).toMatch(/T01:00:00\+08:00$/);
    expect(s.jobs[0]!.last_slot).toBe('2026-11-25T01:00:00+08:00');
    expect(s.jobs[0]!.next_slot).toMatch(/^\d{4}-\d{2}-\d{2}T01:00:00\+08:00$/);
    expect(feed('insurance')).toMatchObject({ verdict: 'stale', max_age_days: 45 });
    expect(feed('insurance').age_days).toBeGreaterThanOrEqual(60);
    expect(feed('water')).toMatchObject({ verdict: 'failing', failure: 'water.csv: no header row found' });
    expect(feed('deaths').verdict).toBe('missing'); // enabled R10 needs it
    expect(feed('disasters').verdict).toBe('not_configured');
    const r02 = s.rules.find((r) => r.rule === 'R02')!;
    expect(r02).toMatchObject({ enabled: true, last_status: 'succeeded', open: 1 });
    expect(s.rules.find((r) => r.rule === 'R01')).toMatchObject({ enabled: false, last_status: 'never' });
    expect(s.jobs).toEqual([expect.objectContaining({ job: 'roster-daily', status: 'failed', attempts: 3 })]);
    expect(s.healthy).toBe(false);
  });

  it('exits 1 and names the problems for a monitoring probe; 0 when all is well', async () => {
    const file = join(dir, 'status.yaml');
    writeFileSync(
      file,
      CONFIG.replace('county:', `database: { url_env: RH_TEST_URL, schema: ${wh.schema} }\ncounty:`),
    );
    const env = { ...process.env, DATABASE_URL: '', RH_TEST_URL: databaseUrl(), RURALHUB_LOG_LEVEL: 'error' };
    const r = await runCli(['--config', file, 'status'], { env });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/insurance +stale/);
    expect(r.stdout).toMatch(/^housing +nothing_kept .* 0 +0 of 2 kept, 2 quarantined *$/m);
    expect(r.stdout).toMatch(/^roster +ok .* 2 +2 of 2 kept /m);
    expect(r.stdout).toMatch(/water +failing .*no header row found/);
    expect(r.stdout).toMatch(/ATTENTION/);
    // People read the county's time, minutes, the zone said once: slot 2026-11-24T17:00Z is 11-25 01:00.
    expect(r.stdout).toMatch(/roster-daily +import +2026-11-25 01:00 +failed +3 +\d{4}-\d{2}-\d{2} 01:00 /);
    expect(r.stdout).toMatch(/times in Asia\/Shanghai/);
    expect(r.stdout).not.toMatch(/T\d\d:\d\d:\d\d/);
    // runs: seconds (two runs in a minute), the zone said once; JSON and CSV with the offset.
    const runs = await runCli(['--config', file, 'runs'], { env });
    expect(runs.stdout).toMatch(/export .*2026-12-02 01:30:00/);
    expect(runs.stdout).toMatch(/times in Asia\/Shanghai/);
    const runsJson = JSON.parse(
      (await runCli(['--config', file, 'runs', '--format', 'json'], { env })).stdout,
    ) as {
      kind: string;
      started_at: string;
      finished_at: string;
    }[];
    expect(runsJson.find((x) => x.kind === 'export')).toMatchObject({
      started_at: '2026-12-02T01:30:00+08:00',
      finished_at: '2026-12-02T01:30:04+08:00',
    });
    const runsCsv = (await runCli(['--config', file, 'runs', '--format', 'csv'], { env })).stdout;
    expect(runsCsv).toMatch(/,2026-12-02T01:30:00\+08:00,/);

    // A warehouse where nothing is needed and nothing failed is healthy.
    const schema = `${wh.schema}_ok`;
    const pool = createPool(databaseUrl(), schema);
    const db = createDb(pool);
    await migrate(db, schema);
    await db.destroy();
    const quiet = join(dir, 'quiet.yaml');
    writeFileSync(
      quiet,
      `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_TEST_URL, schema: ${schema} }\n` +
        `rules: { ${['R01', 'R02', 'R03', 'R04', 'R05', 'R06', 'R07', 'R08', 'R09', 'R10', 'R11', 'R12', 'R13'].map((x) => `${x}: { enabled: false }`).join(', ')} }\n`,
    );
    const ok = await runCli(['--config', quiet, 'status', '--format', 'json'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    const healthy = JSON.parse(ok.stdout) as {
      healthy: boolean;
      server: { setting: string; value: string; ok: boolean }[];
    };
    expect(healthy.healthy).toBe(true);
    // The server's settings as PostgreSQL reports them, advice only (the exit code stayed 0).
    expect(healthy.server.map((x) => x.setting)).toEqual([
      'shared_buffers',
      'max_wal_size',
      'wal_compression',
    ]);
    const shown = await sql<{ shared_buffers: string }>`SHOW shared_buffers`.execute(wh.db);
    expect(healthy.server[0]!.value).toBe(shown.rows[0]!.shared_buffers);
    const table = await runCli(['--config', quiet, 'status'], { env });
    expect(table.stdout.includes('Server settings below')).toBe(healthy.server.some((x) => !x.ok));
    await dropWarehouse(wh.db, schema);
  });
});
