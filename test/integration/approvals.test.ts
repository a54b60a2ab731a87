/**
 * Approvals for bulk operations (issue 27): `findings --full-ids` over more rows than
 * approvals.findings_full_ids_max_rows (3 here) is refused in one line naming the approval command; it runs once
 * another person approved the request, exactly once; a denied, expired, mismatched or used approval allows
 * nothing; every step is in the audit log. Findings are written straight into the table: what is tested is the
 * gate, not the matcher.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import {
  cliPrincipal,
  consumeApproval,
  decideApproval,
  requestApproval,
  tokenPrincipal,
} from '../../src/approvals/approvals.ts';
import { coversFindings, findingsScope, fullIdsFilter } from '../../src/approvals/findings-full-ids.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { buildServer } from '../../src/http/server.ts';
import { createToken } from '../../src/http/tokens.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { runCli } from '../support/cli.ts';
import { testId } from '../support/demo.ts';
import { tempDir } from '../support/files.ts';
import { databaseUrl, testWarehouse } from '../support/warehouse.ts';

const dir = tempDir('ruralhub-approvals-');
let wh: Warehouse;
let cfgFile: string;
let app: FastifyInstance;

const R02 = [1, 2, 3, 4].map((n) => testId(n));
const R01 = testId(5, '52010220150101');

const ruralhub = (args: string[]) =>
  runCli(['--config', cfgFile, ...args], {
    env: {
      ...process.env,
      DATABASE_URL: '',
      RURALHUB_LOG_LEVEL: 'warn',
      RH_TEST_URL: databaseUrl(),
      USER: 'operator1',
    },
  });

const REFUSAL =
  "ruralhub: config error: findings --full-ids of 5 rows (more than 3) needs a second person's approval: " +
  "ruralhub approvals request findings-full-ids --by YOUR_NAME --reason '…'; once another person has run " +
  '`ruralhub approvals approve ID --by THEIR_NAME`, run this again with --approval ID\n';

/** The id a request prints: "approval 12 requested: …". */
const requestedId = (stdout: string) => Number(/^approval (\d+) requested: /.exec(stdout)?.[1]);

beforeAll(async () => {
  wh = await testWarehouse('approvals');
  cfgFile = join(dir, 'config.yaml');
  writeFileSync(
    cfgFile,
    `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_TEST_URL, schema: ${wh.schema} }\n` +
      'approvals: { findings_full_ids_max_rows: 3 }\n',
  );
  const run = await wh.db
    .insertInto('runs')
    .values({ kind: 'match', status: 'succeeded' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const base = {
    subject_kind: 'person',
    first_seen_on: '2026-11-01',
    first_seen_run: run.id,
    last_seen_on: '2026-11-24',
    last_seen_run: run.id,
    deadline: '2026-12-01',
    state: 'open',
    township: '青山乡',
    village: '新村',
  };
  await wh.db
    .insertInto('findings')
    .values([
      ...R02.map((id, i) => ({
        ...base,
        rule_id: 'R02',
        department: '医保局',
        subject_key: id,
        id_number: id,
        name: `参保${i + 1}`,
      })),
      { ...base, rule_id: 'R01', department: '教育局', subject_key: R01, id_number: R01, name: '学生' },
    ])
    .execute();
});
afterAll(async () => {
  await app?.close();
  await wh?.close();
});

describe('findings --full-ids above the threshold', () => {
  it('is refused in one line naming the approval command, and the attempt is audited', async () => {
    const r = await ruralhub(['findings', '--full-ids']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(REFUSAL);
    expect(r.stdout).toBe('');
  });

  it("names the listing's own filter in the command it proposes", async () => {
    const r = await ruralhub(['findings', '--full-ids', '--rule', 'R02', '--state', 'all']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "findings --full-ids of 4 rows (more than 3) needs a second person's approval: ruralhub approvals request findings-full-ids --rule R02 --state all --by YOUR_NAME",
    );
  });

  it('stays one step at or below the threshold (audited as before)', async () => {
    const r = await ruralhub(['findings', '--full-ids', '--rule', 'R01', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { id_number: string }[]).map((f) => f.id_number)).toEqual([R01]);
  });

  it('runs once after another person approves: request by A, approve by A refused, by B works, second use refused', async () => {
    const asked = await ruralhub([
      'approvals',
      'request',
      'findings-full-ids',
      '--by',
      'alice',
      '--reason',
      '全县核对参保',
    ]);
    expect(asked.code, asked.stderr).toBe(0);
    const id = requestedId(asked.stdout);
    expect(asked.stdout).toMatch(
      new RegExp(
        `^approval ${id} requested: findings --full-ids of 5 rows \\(every rule, not closed\\), by alice; another person approves it with \`ruralhub approvals approve ${id} --by NAME\` before \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d \\(Asia/Shanghai\\)\\n$`,
      ),
    );

    const early = await ruralhub(['findings', '--full-ids', '--approval', String(id)]);
    expect(early.code).toBe(2);
    expect(early.stderr).toBe(`ruralhub: config error: approval ${id} is pending, not approved\n`);

    const self = await ruralhub(['approvals', 'approve', String(id), '--by', 'alice']);
    expect(self.code).toBe(2);
    expect(self.stderr).toBe(
      `ruralhub: config error: approval ${id} was requested by cli:alice: another person must decide it (four eyes)\n`,
    );

    const ok = await ruralhub(['approvals', 'approve', String(id), '--by', 'bob', '--reason', '函已核']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^approval ${id} approved by bob; it allows one run until `));

    // Another filter is not what bob approved: refused, and the approval is still unused.
    const other = await ruralhub(['findings', '--full-ids', '--rule', 'R02', '--approval', String(id)]);
    expect(other.code).toBe(2);
    expect(other.stderr).toBe(
      `ruralhub: config error: approval ${id} does not cover this run: it was approved for every rule, not closed, this listing is '--rule R02'\n`,
    );

    const run = await ruralhub(['findings', '--full-ids', '--approval', String(id), '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { id_number: string }[]).map((f) => f.id_number)).toEqual([
      R01,
      ...R02,
    ]);
    const used = await wh.db
      .selectFrom('approvals')
      .select(['requested_by', 'decided_by', 'decision', 'decision_reason', 'reason'])
      .select((eb) => eb('used_at', 'is not', null).as('used'))
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(used).toEqual({
      requested_by: 'cli:alice',
      decided_by: 'cli:bob',
      decision: 'approved',
      decision_reason: '函已核',
      reason: '全县核对参保',
      used: true,
    });

    const again = await ruralhub(['findings', '--full-ids', '--approval', String(id)]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      new RegExp(
        `^ruralhub: config error: approval ${id} was already used \\(\\d{4}-.*Z\\): an approval allows one run; request a new one\\n$`,
      ),
    );

    const list = await ruralhub(['approvals', 'list', '--format', 'json']);
    expect(list.code, list.stderr).toBe(0);
    expect(
      (JSON.parse(list.stdout) as { id: number; status: string; scope: unknown }[]).find((a) => a.id === id),
    ).toMatchObject({
      status: 'used',
      scope: {
        filter: { rules: [], department: null, township: null, state: 'not_closed', overdue_on: null },
        rows: 5,
      },
    });
    const open = await ruralhub(['approvals', 'list', '--open', '--format', 'json']);
    expect((JSON.parse(open.stdout) as { id: number }[]).map((a) => a.id)).not.toContain(id);
  });

  it('a denied request allows nothing and cannot be approved afterwards', async () => {
    const asked = await ruralhub([
      'approvals',
      'request',
      'findings-full-ids',
      '--rule',
      'R02',
      '--by',
      'alice',
      '--reason',
      '再次导出',
    ]);
    const id = requestedId(asked.stdout);
    const bare = await ruralhub(['approvals', 'deny', String(id), '--by', 'bob']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toBe(
      'ruralhub: config error: approvals deny: --reason is required (the requester reads why)\n',
    );
    const denied = await ruralhub(['approvals', 'deny', String(id), '--by', 'bob', '--reason', '已导出过']);
    expect(denied.code, denied.stderr).toBe(0);
    expect(denied.stdout).toBe(`approval ${id} denied by bob\n`);
    const use = await ruralhub(['findings', '--full-ids', '--rule', 'R02', '--approval', String(id)]);
    expect(use.stderr).toBe(`ruralhub: config error: approval ${id} is denied, not approved\n`);
    const late = await ruralhub(['approvals', 'approve', String(id), '--by', 'carol']);
    expect(late.stderr).toBe(`ruralhub: config error: approval ${id} is denied: it cannot be decided now\n`);
  });

  it('writes every step to the audit log, with who asked, who decided and which approval an export used', async () => {
    const rows = await wh.db
      .selectFrom('audit_log')
      .select(['actor', 'role', 'action', 'target', 'row_count', 'details'])
      .where((eb) =>
        eb.or([eb('action', 'like', 'approvals.%'), eb('action', 'like', 'findings.export_full_ids%')]),
      )
      .orderBy('id')
      .execute();
    const ids = await wh.db.selectFrom('approvals').select('id').orderBy('id').execute();
    const [first, second] = ids.map((a) => String(a.id));
    expect(rows.map((r) => [r.actor, r.action, r.target, r.row_count])).toEqual([
      ['operator1', 'findings.export_full_ids_refused', '{"state":"not_closed"}', 5],
      ['operator1', 'findings.export_full_ids_refused', '{"rules":["R02"],"state":"all"}', 4],
      ['operator1', 'findings.export_full_ids', '{"rules":["R01"],"state":"not_closed"}', 1],
      ['cli:alice', 'approvals.request', first, 5],
      ['cli:bob', 'approvals.approve', first, 5],
      ['operator1', 'findings.export_full_ids', '{"state":"not_closed"}', 5],
      ['cli:alice', 'approvals.request', second, 4],
      ['cli:bob', 'approvals.deny', second, 4],
    ]);
    expect(rows.every((r) => r.role === 'bureau')).toBe(true);
    expect(rows[3]!.details).toEqual({
      kind: 'findings-full-ids',
      reason: '全县核对参保',
      scope: {
        filter: { rules: [], department: null, township: null, state: 'not_closed', overdue_on: null },
        rows: 5,
      },
    });
    expect(rows[4]!.details).toEqual({
      kind: 'findings-full-ids',
      requested_by: 'cli:alice',
      reason: '函已核',
    });
    expect(rows[5]!.details).toEqual({
      approval: Number(first),
      requested_by: 'cli:alice',
      approved_by: 'cli:bob',
    });
    expect(rows[7]!.details).toEqual({
      kind: 'findings-full-ids',
      requested_by: 'cli:alice',
      reason: '已导出过',
    });
    const chain = await ruralhub(['audit', 'verify']);
    expect(chain.code, chain.stderr).toBe(0);
  });
});

describe('the approvals themselves', () => {
  const T = new Date('2026-12-01T02:00:00Z');
  const hours = (h: number) => new Date(T.getTime() + h * 3_600_000);
  const filter = fullIdsFilter({ rules: ['R02'] });
  const ask = (by = cliPrincipal('alice')) =>
    requestApproval(wh.db, {
      kind: 'findings-full-ids',
      scope: findingsScope(filter, 4),
      by,
      reason: '核对',
      validHours: 24,
      now: T,
    });

  it('expire: a request not decided, or an approval not used, within approvals.valid_hours allows nothing', async () => {
    const a = await ask();
    expect(a.expires_at).toEqual(hours(24));
    await expect(
      decideApproval(wh.db, { id: a.id, decision: 'approved', by: cliPrincipal('bob'), now: hours(24) }),
    ).rejects.toThrow(`approval ${a.id} is expired: it cannot be decided now`);

    const b = await ask();
    await decideApproval(wh.db, { id: b.id, decision: 'approved', by: cliPrincipal('bob'), now: hours(1) });
    const use = (now: Date) =>
      consumeApproval(wh.db, { id: b.id, kind: 'findings-full-ids', covers: coversFindings(filter, 4), now });
    await expect(use(hours(24))).rejects.toThrow(`approval ${b.id} is expired, not approved`);
    expect((await use(hours(23))).used_at).toEqual(hours(23));
  });

  it('cover at most the rows the approver saw: a listing grown since needs a new approval', async () => {
    const a = await ask();
    await decideApproval(wh.db, { id: a.id, decision: 'approved', by: cliPrincipal('bob'), now: hours(1) });
    await expect(
      consumeApproval(wh.db, {
        id: a.id,
        kind: 'findings-full-ids',
        covers: coversFindings(filter, 5),
        now: hours(2),
      }),
    ).rejects.toThrow(
      `approval ${a.id} does not cover this run: it was approved for 4 rows and the listing now has 5`,
    );
    await expect(
      consumeApproval(wh.db, { id: a.id, kind: 'person-lookups', covers: () => null, now: hours(2) }),
    ).rejects.toThrow(`approval ${a.id} is for findings-full-ids, not person-lookups`);
  });

  it('over HTTP: only a bureau token other than the requester decides', async () => {
    const requester = tokenPrincipal({ tokenId: 7, role: 'bureau', label: '局办公室', department: null });
    const a = await ask(requester);
    expect(a.requested_by).toBe('token:7');
    const same = { ...requester, actor: 'token:7 (改了标签)' };
    await expect(
      decideApproval(wh.db, { id: a.id, decision: 'approved', by: same, now: hours(1) }),
    ).rejects.toThrow(`approval ${a.id} was requested by token:7: another person must decide it (four eyes)`);
    const operator = tokenPrincipal({ tokenId: 8, role: 'operator', label: null, department: null });
    await expect(
      decideApproval(wh.db, { id: a.id, decision: 'approved', by: operator, now: hours(1) }),
    ).rejects.toThrow(`approval ${a.id}: only the bureau decides approvals, not a operator token`);
    const bureau = tokenPrincipal({ tokenId: 9, role: 'bureau', label: '局长', department: null });
    const ok = await decideApproval(wh.db, { id: a.id, decision: 'approved', by: bureau, now: hours(1) });
    expect([ok.decided_by, ok.decision]).toEqual(['token:9', 'approved']);
  });

  it('are kept by the database: no decision by the requester, no second decision, no second use', async () => {
    const a = await ask();
    await expect(
      wh.db
        .updateTable('approvals')
        .set({ decided_by: 'cli:alice', decision: 'approved', decided_at: hours(1) })
        .where('id', '=', a.id)
        .execute(),
    ).rejects.toThrow(/approvals_check/);
    await decideApproval(wh.db, {
      id: a.id,
      decision: 'denied',
      by: cliPrincipal('bob'),
      reason: '不需要',
      now: hours(1),
    });
    await expect(
      wh.db.updateTable('approvals').set({ decision: 'approved' }).where('id', '=', a.id).execute(),
    ).rejects.toThrow(`approval ${a.id}: already denied`);
    await expect(
      wh.db
        .updateTable('approvals')
        .set({ used_at: hours(2) })
        .where('id', '=', a.id)
        .execute(),
    ).rejects.toThrow(/approvals_check/);
    await expect(
      wh.db.updateTable('approvals').set({ reason: '改写' }).where('id', '=', a.id).execute(),
    ).rejects.toThrow(`approval ${a.id}: what was requested cannot be changed`);
  });
});

describe('person lookups over HTTP beyond the daily allowance (2 here)', () => {
  const PERSON = testId(9);
  let clerk: string;
  let chief: string;
  let clerkId: number;
  let chiefId: number;
  const call = async (method: 'GET' | 'POST', url: string, token: string) => {
    const r = await app.inject({ method, url, headers: { authorization: `Bearer ${token}` } });
    return {
      status: r.statusCode,
      body: r.json() as Record<string, unknown> & { error?: { message: string } },
    };
  };
  const lookup = (token: string, i: number) =>
    call('GET', `/api/persons/${PERSON}?purpose=${encodeURIComponent(`核查${i}`)}`, token);

  beforeAll(async () => {
    const config = parseConfig(
      'county: { name: 示范县, code: "520102" }\napprovals: { person_lookups_per_day: 2 }',
      'inline',
    );
    app = await buildServer({ wh, config, log: silentLogger(), today: () => '2026-11-24' });
    const a = await createToken(wh, { role: 'bureau', label: '办事员' });
    [clerk, clerkId] = [a.token, a.id];
    const b = await createToken(wh, { role: 'bureau', label: '局长' });
    [chief, chiefId] = [b.token, b.id];
  });

  it('refuses the third lookup with 403 naming the approval request, and goes on once another bureau token approved', async () => {
    // No records of this person: a lookup that went through answers 404, and it counts.
    expect([(await lookup(clerk, 1)).status, (await lookup(clerk, 2)).status]).toEqual([404, 404]);
    const third = await lookup(clerk, 3);
    expect(third).toEqual({
      status: 403,
      body: {
        error: {
          status: 403,
          code: 'approval_required',
          message:
            "more than 2 person lookups today by this token need a second person's approval: POST /api/approvals/person-lookups?lookups=N&reason=… (its id in the answer), then another bureau token's POST /api/approvals/{id}/approve",
        },
      },
    });

    const asked = await call(
      'POST',
      `/api/approvals/person-lookups?lookups=2&reason=${encodeURIComponent('全村入户核查')}`,
      clerk,
    );
    expect(asked.status).toBe(200);
    expect(asked.body).toMatchObject({
      kind: 'person-lookups',
      status: 'pending',
      requested_by: `token:${clerkId}`,
      reason: '全村入户核查',
      scope: { token_id: clerkId, lookups: 2 },
    });
    const id = asked.body.id as number;
    expect((await lookup(clerk, 4)).status).toBe(403);

    const self = await call('POST', `/api/approvals/${id}/approve`, clerk);
    expect(self).toEqual({
      status: 403,
      body: {
        error: {
          status: 403,
          code: 'forbidden',
          message: `approval ${id} was requested by token:${clerkId}: another person must decide it (four eyes)`,
        },
      },
    });
    const operator = (await createToken(wh, { role: 'operator' })).token;
    expect((await call('POST', `/api/approvals/${id}/approve`, operator)).status).toBe(403);

    const ok = await call('POST', `/api/approvals/${id}/approve?reason=${encodeURIComponent('同意')}`, chief);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'approved', decision_reason: '同意' });
    expect(
      (await call('POST', `/api/approvals/${id}/deny?reason=${encodeURIComponent('撤回')}`, chief)).body,
    ).toEqual({
      error: {
        status: 409,
        code: 'conflict',
        message: `approval ${id} is approved: it cannot be decided now`,
      },
    });

    // Two more today, then refused again, the allowance now 4.
    expect([(await lookup(clerk, 5)).status, (await lookup(clerk, 6)).status]).toEqual([404, 404]);
    const past = await lookup(clerk, 7);
    expect(past.status).toBe(403);
    expect(past.body.error?.message).toMatch(/^more than 4 person lookups today by this token need/);
    const row = await wh.db
      .selectFrom('approvals')
      .select(['decided_by', 'decision'])
      .select((eb) => eb('used_at', 'is not', null).as('used'))
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.decision).toBe('approved');
    expect(row.used).toBe(true);
    expect(row.decided_by).not.toBe(`token:${clerkId}`);

    // Another token has its own allowance.
    expect((await lookup(chief, 1)).status).toBe(404);

    const audit = await wh.db
      .selectFrom('audit_log')
      .select(['actor', 'action', 'row_count'])
      .where('actor', 'like', `token:${clerkId} %`)
      .where('action', '<>', 'person.lookup')
      .orderBy('id')
      .execute();
    expect(audit.map((r) => [r.action, r.row_count])).toEqual([
      ['person.lookup_refused', 0],
      ['approvals.request', 2],
      ['person.lookup_refused', 0],
      ['person.lookup_refused', 0],
    ]);
    expect(audit.every((r) => r.actor === `token:${clerkId} (办事员)`)).toBe(true);
    expect(
      await wh.db
        .selectFrom('audit_log')
        .select(['action', 'target'])
        .where('actor', '=', `token:${chiefId} (局长)`)
        .orderBy('id')
        .execute(),
    ).toEqual([
      { action: 'approvals.approve', target: String(id) },
      { action: 'person.lookup', target: '5201**********0099' },
    ]);
  });

  it('a denial needs a reason; a department token sees only its own requests', async () => {
    const dept = (await createToken(wh, { role: 'department', department: '教育局', label: '教育局' })).token;
    const asked = await call(
      'POST',
      `/api/approvals/person-lookups?lookups=5&reason=${encodeURIComponent('复核')}`,
      dept,
    );
    const id = asked.body.id as number;
    expect((await call('POST', `/api/approvals/${id}/deny`, chief)).status).toBe(400);
    const denied = await call(
      'POST',
      `/api/approvals/${id}/deny?reason=${encodeURIComponent('无需')}`,
      chief,
    );
    expect(denied.body).toMatchObject({ status: 'denied', decision_reason: '无需' });
    const own = await app.inject({
      method: 'GET',
      url: '/api/approvals',
      headers: { authorization: `Bearer ${dept}` },
    });
    expect((own.json() as { id: number }[]).map((a) => a.id)).toEqual([id]);
    expect((await call('POST', '/api/approvals/999999/approve', chief)).status).toBe(404);
  });
});
