/**
 * `match --dry-run`: what a real match would open, keep, close and reopen, computed by the rule's own statements
 * and rolled back. A small county over three weeks: the dry run's counts and findings equal those of the real
 * match run right after it, and the dry run leaves no finding, event, run or audit row behind (but the one
 * audit row of a listing with full IDs).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { type DryRunFinding, type RuleOutcome, runMatch } from '../../src/matching/run-match.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { runCli } from '../support/cli.ts';
import { personId } from '../support/demo.ts';
import { tempDir } from '../support/files.ts';
import { insured, loadWeek } from '../support/loads.ts';
import { databaseUrl, testWarehouse } from '../support/warehouse.ts';

const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-dry-run-');
let wh: Warehouse;
let cfgFile: string;

type Person = { name: string; id: string };
const people = [1, 2, 3, 4, 5, 6].map((n): Person => ({ name: `试算${n}`, id: personId(n) }));
const [A, B, C, D, E, F] = people as [Person, Person, Person, Person, Person, Person];

const load = (feed: 'roster' | 'insurance', week: string, rows: string[][]) =>
  loadWeek({ wh, dir, log }, feed, week, rows);

const ruralhub = (args: string[]) =>
  runCli(['--config', cfgFile, ...args], {
    env: { ...process.env, DATABASE_URL: '', RURALHUB_LOG_LEVEL: 'warn', RH_TEST_URL: databaseUrl() },
  });

/** Everything a match could write: the row counts, and every finding as stored. */
async function snapshot() {
  const n = async (table: 'findings' | 'finding_events' | 'runs' | 'audit_log') =>
    Number((await wh.db.selectFrom(table).select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
  return {
    findings: await n('findings'),
    finding_events: await n('finding_events'),
    runs: await n('runs'),
    audit_log: await n('audit_log'),
    rows: await wh.db.selectFrom('findings').selectAll().orderBy('id').execute(),
  };
}

/** A dry run's findings by person: what it would do and how the finding would stand. */
const byPerson = (found: readonly DryRunFinding[]) =>
  Object.fromEntries(found.map((f) => [f.id_number, `${f.action}:${f.state}`]));

let dry: RuleOutcome;

beforeAll(async () => {
  wh = await testWarehouse('dry_run');
  cfgFile = join(dir, 'config.yaml');
  writeFileSync(
    cfgFile,
    `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_TEST_URL, schema: ${wh.schema} }\n`,
  );
  await load(
    'roster',
    'w1',
    people.map((p, i) => [`H${i}`, p.name, p.id, '户主', '监测户']),
  );
  // Week 1: C, D and E uninsured. Week 2: B uninsured (new), C and D insured (closed by data), E still.
  await load('insurance', 'w1', insured(A, B, F));
  await runMatch({ wh, config, log, asOf: '2026-11-24', rules: ['R02'] });
  await load('insurance', 'w2', insured(A, C, D, F));
  await runMatch({ wh, config, log, asOf: '2026-12-01', rules: ['R02'] });
  // Week 3: B insured again (would close), D lost it again (would reopen), E still (kept), F lost it (new).
  await load('insurance', 'w3', insured(A, B, C));
});
afterAll(async () => wh?.close());

describe('match --dry-run', () => {
  it('reports what the match would do and writes nothing', async () => {
    const before = await snapshot();
    [dry] = (await runMatch({ wh, config, log, asOf: '2026-12-08', rules: ['R02'], dryRun: true })) as [
      RuleOutcome,
    ];
    expect(dry).toMatchObject({ status: 'ran', found: 3, new: 1, stillOpen: 1, closed: 1, reopened: 1 });
    expect(dry.runId).toBeUndefined();
    expect(byPerson(dry.findings!)).toEqual({
      [B.id]: 'close:closed',
      [D.id]: 'reopen:reopened',
      [E.id]: 'keep:open',
      [F.id]: 'new:open',
    });
    expect(dry.findings!.find((f) => f.action === 'new')!.id).toBeNull();
    expect(dry.findings!.find((f) => f.action === 'reopen')!.deadline).toBe('2027-01-07');
    expect(await snapshot()).toEqual(before);
  });

  it('through the command: a table of counts, or the findings masked unless --full-ids (then audited)', async () => {
    const before = await snapshot();
    const table = await ruralhub(['match', '--dry-run', '--rule', 'R02', '--as-of', '2026-12-08']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^dry run as of 2026-12-08: nothing was changed\n/);
    expect(table.stdout).toMatch(/R02 .* ran +\d+ +3 +1 +1 +1 +1 /);

    const json = await ruralhub([
      'match',
      '--dry-run',
      '--rule',
      'R02',
      '--as-of',
      '2026-12-08',
      '--format',
      'json',
    ]);
    expect(json.code, json.stderr).toBe(0);
    const rows = JSON.parse(json.stdout) as { action: string; id_number: string; rule: string }[];
    expect(rows.map((r) => r.action).sort()).toEqual(['close', 'keep', 'new', 'reopen']);
    expect(rows.every((r) => r.rule === 'R02' && /^\d{4}\*{10}\w{4}$/.test(r.id_number))).toBe(true);
    for (const p of people) expect(json.stdout).not.toContain(p.id);
    expect(await snapshot()).toEqual(before);

    const csv = await ruralhub([
      'match',
      '--dry-run',
      '-r',
      'R02',
      '--as-of',
      '2026-12-08',
      '--format',
      'csv',
    ]);
    expect(csv.stdout.split('\n')[0]).toMatch(/^\uFEFF?action,id,rule,owner,subject_kind,id_number/);
    expect(csv.stdout.trim().split('\n')).toHaveLength(5);

    const full = await ruralhub([
      'match',
      '--dry-run',
      '--rule',
      'R02',
      '--as-of',
      '2026-12-08',
      '--format',
      'json',
      '--full-ids',
    ]);
    expect(full.code, full.stderr).toBe(0);
    for (const p of [B, D, E, F]) expect(full.stdout).toContain(p.id);
    const after = await snapshot();
    expect({ ...after, audit_log: after.audit_log - 1 }).toEqual(before);
    const audit = await wh.db
      .selectFrom('audit_log')
      .select(['action', 'row_count'])
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(audit).toEqual({ action: 'match.dry_run_full_ids', row_count: 4 });

    const misuse = await ruralhub(['match', '--rule', 'R02', '--format', 'json']);
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toMatch(/go with --dry-run/);
  });

  it('equals the real match run right after it', async () => {
    const [real] = await runMatch({ wh, config, log, asOf: '2026-12-08', rules: ['R02'] });
    const counts = (o: RuleOutcome) => [o.found, o.new, o.stillOpen, o.closed, o.reopened, o.population];
    expect(counts(real!)).toEqual(counts(dry));
    // Every finding the dry run listed stands in the table as it said, with the same id (but a new one's).
    const table = await wh.db
      .selectFrom('findings')
      .select(['id', 'id_number', 'state', 'department', 'name', 'township', 'village', 'details'])
      .select(sql<string>`to_char(deadline, 'YYYY-MM-DD')`.as('deadline'))
      .where('rule_id', '=', 'R02')
      .execute();
    for (const f of dry.findings!) {
      const row = table.find((r) => r.id_number === f.id_number)!;
      expect(row).toMatchObject({
        state: f.state,
        deadline: f.deadline,
        department: f.department,
        name: f.name,
        township: f.township,
        village: f.village,
        details: f.details,
      });
      if (f.id !== null) expect(Number(row.id)).toBe(f.id);
    }
    // And the findings the real run moved are the ones the dry run said it would move.
    const moved = await wh.db
      .selectFrom('finding_events')
      .innerJoin('findings', 'findings.id', 'finding_events.finding_id')
      .select(['findings.id_number', 'finding_events.to_state'])
      .where('finding_events.run_id', '=', real!.runId!)
      .execute();
    expect(Object.fromEntries(moved.map((m) => [m.id_number, m.to_state]))).toEqual(
      Object.fromEntries(dry.findings!.filter((f) => f.action !== 'keep').map((f) => [f.id_number, f.state])),
    );
  });
});
