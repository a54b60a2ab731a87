/**
 * The audit log as a hash chain (issue 24 item 12): appends chain in order even when concurrent, the old
 * bypass (`session_replication_role = replica`) no longer skips the append-only triggers, and `audit verify`
 * finds what a superuser — who can still switch triggers off — changed, deleted or inserted, naming the row
 * by id and nothing else. The production role set-up of the README is rebuilt here with NOLOGIN roles: the
 * application's role appends through the chain but cannot set session_replication_role, delete, or disable
 * a trigger.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Kysely, type Migration, type MigrationResultSet, Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { buildServer } from '../../src/http/server.ts';
import { createToken } from '../../src/http/tokens.ts';
import {
  auditRoleRisks,
  type ChainReport,
  clientAddress,
  verifyAuditChain,
  writeAudit,
} from '../../src/warehouse/audit.ts';
import { createDb, createPool, type Warehouse } from '../../src/warehouse/connect.ts';
import { isIntrospectionRace } from '../../src/warehouse/migrate.ts';
import type { Database } from '../../src/warehouse/schema.ts';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/files.ts';
import { databaseUrl, dropWarehouse, testWarehouse } from '../support/warehouse.ts';

const PERSONAL = '张三 520102199001011234';

/** A fresh warehouse with `n` audit rows; tampering tests each get their own, the log being append-only. */
async function logWith(label: string, n: number): Promise<{ wh: Warehouse; ids: number[] }> {
  const wh = await testWarehouse(label);
  for (let i = 1; i <= n; i++)
    await writeAudit(wh.db, {
      actor: `operator ${i}`,
      role: 'operator',
      action: 'test.write',
      target: `${PERSONAL} #${i}`,
      rowCount: i,
      details: { i, note: `第${i}行` },
    });
  const ids = (await wh.db.selectFrom('audit_log').select('id').orderBy('chain_seq').execute()).map((r) =>
    Number(r.id),
  );
  return { wh, ids };
}

/** Runs `body` on a fresh log of `n` rows (logWith), then drops its warehouse, whatever happened. */
async function onFreshLog(
  label: string,
  n: number,
  body: (wh: Warehouse, ids: number[]) => Promise<void>,
): Promise<void> {
  const { wh, ids } = await logWith(label, n);
  try {
    await body(wh, ids);
  } finally {
    await wh.close();
  }
}

/** What a superuser (or the owner) can do: switch the append-only trigger off for one statement. */
async function withoutTrigger(db: Kysely<Database>, trigger: string, stmt: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`ALTER TABLE audit_log DISABLE TRIGGER ${sql.id(trigger)}`.execute(trx);
    await sql.raw(stmt).execute(trx);
    await sql`ALTER TABLE audit_log ENABLE ALWAYS TRIGGER ${sql.id(trigger)}`.execute(trx);
  });
}

const broken = (r: ChainReport) =>
  r.broken && { kind: r.broken.kind, id: r.broken.id, prev: r.broken.previousId };

describe('appending', () => {
  let wh: Warehouse;
  beforeAll(async () => {
    wh = (await logWith('audit_append', 3)).wh;
  });
  afterAll(async () => wh.close());

  it('chains rows in order, each holding the previous hash, and records the client address', async () => {
    await writeAudit(wh.db, { actor: 'a', role: 'bureau', action: 'x', clientAddr: '::ffff:10.1.2.3' });
    await writeAudit(wh.db, { actor: 'a', role: 'bureau', action: 'x', clientAddr: 'not an address' });
    await writeAudit(wh.db, { actor: 'a', role: 'bureau', action: 'x', clientAddr: '2001:db8::7' });
    const rows = await wh.db
      .selectFrom('audit_log')
      .select(['chain_seq', 'prev_hash', 'row_hash', sql<string | null>`host(client_addr)`.as('addr')])
      .orderBy('chain_seq')
      .execute();
    expect(rows.map((r) => Number(r.chain_seq))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rows[0]!.prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.row_hash);
    expect(rows.map((r) => r.addr)).toEqual([null, null, null, '10.1.2.3', null, '2001:db8::7']);
    const report = await verifyAuditChain(wh.db);
    expect(report).toMatchObject({ rows: 6, headSeq: 6, headHash: rows[5]!.row_hash, broken: null });
  });

  it('ignores chain values a writer supplies', async () => {
    await sql`INSERT INTO audit_log (actor, role, action, chain_seq, prev_hash, row_hash)
      VALUES ('a', 'bureau', 'forged', 1000, 'x', 'y')`.execute(wh.db);
    const r = await verifyAuditChain(wh.db);
    expect(r.broken).toBeNull();
    expect(r.headSeq).toBe(r.rows);
  });

  it('does not fork under concurrent writers (separate connections and transactions)', async () => {
    const before = (await verifyAuditChain(wh.db)).headSeq;
    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        i % 2
          ? writeAudit(wh.db, { actor: `w${i}`, role: 'operator', action: 'concurrent' })
          : wh.db.transaction().execute(async (trx) => {
              await sql`SELECT pg_sleep(0.01)`.execute(trx);
              await writeAudit(trx, { actor: `w${i}`, role: 'operator', action: 'concurrent' });
            }),
      ),
    );
    const r = await verifyAuditChain(wh.db);
    expect(r).toMatchObject({ broken: null, headSeq: before + 24, rows: before + 24 });
    const forks = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM (SELECT prev_hash FROM audit_log GROUP BY 1 HAVING count(*) > 1) f`.execute(
      wh.db,
    );
    expect(forks.rows[0]!.n).toBe(0);
  });

  it('refuses UPDATE and DELETE in session_replication_role = replica (the old bypass)', async () => {
    for (const stmt of ['DELETE FROM audit_log', "UPDATE audit_log SET actor = 'x'", 'TRUNCATE audit_log'])
      await expect(
        wh.db.transaction().execute(async (trx) => {
          await sql`SET LOCAL session_replication_role = replica`.execute(trx);
          await sql.raw(stmt).execute(trx);
        }),
      ).rejects.toThrow(/append-only/);
  });

  it('rolls the head back with the transaction that wrote a row', async () => {
    const before = await verifyAuditChain(wh.db);
    await expect(
      wh.db.transaction().execute(async (trx) => {
        await writeAudit(trx, { actor: 'a', role: 'bureau', action: 'rolled back' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await verifyAuditChain(wh.db)).toEqual(before);
  });
});

describe('verify finds tampering a superuser can do', () => {
  it('a row deleted with the triggers disabled', () =>
    onFreshLog('audit_del', 5, async (wh, ids) => {
      await withoutTrigger(wh.db, 'audit_log_no_change', `DELETE FROM audit_log WHERE id = ${ids[2]}`);
      expect(broken(await verifyAuditChain(wh.db))).toEqual({ kind: 'deleted', id: ids[3], prev: ids[1] });
    }));

  it('the newest row deleted (only the head knows it existed)', () =>
    onFreshLog('audit_del_last', 3, async (wh, ids) => {
      await withoutTrigger(wh.db, 'audit_log_no_change', `DELETE FROM audit_log WHERE id = ${ids[2]}`);
      expect(broken(await verifyAuditChain(wh.db))).toEqual({ kind: 'deleted', id: null, prev: ids[1] });
    }));

  it('a deleted row in replica mode, by a superuser who also switched the trigger off', () =>
    onFreshLog('audit_del_replica', 3, async (wh, ids) => {
      await wh.db.transaction().execute(async (trx) => {
        await sql`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`.execute(trx);
        await sql`SET LOCAL session_replication_role = replica`.execute(trx);
        await sql`DELETE FROM audit_log WHERE id = ${ids[0]}`.execute(trx);
        await sql`ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_change`.execute(trx);
      });
      expect(broken(await verifyAuditChain(wh.db))).toEqual({ kind: 'deleted', id: ids[1], prev: null });
    }));

  it('an updated row, any column', () =>
    onFreshLog('audit_upd', 4, async (wh, ids) => {
      for (const [col, value] of [
        ['actor', "'someone else'"],
        ['at', "at - interval '1 microsecond'"],
        ['details', `details || '{"i": 0}'`],
        ['client_addr', "'10.0.0.1'"],
      ] as const) {
        await withoutTrigger(
          wh.db,
          'audit_log_no_change',
          `UPDATE audit_log SET ${col} = ${value} WHERE id = ${ids[1]}`,
        );
        expect(broken(await verifyAuditChain(wh.db)), col).toEqual({
          kind: 'changed',
          id: ids[1],
          prev: ids[0],
        });
      }
    }));

  it('an updated row whose hash was recomputed too', () =>
    onFreshLog('audit_upd_rehash', 4, async (wh, ids) => {
      await withoutTrigger(
        wh.db,
        'audit_log_no_change',
        `UPDATE audit_log SET target = 'nothing', row_hash = audit_row_hash(chain_seq, prev_hash, id, at, actor,
           role, department, action, 'nothing', row_count, details, client_addr) WHERE id = ${ids[1]}`,
      );
      expect(broken(await verifyAuditChain(wh.db))).toEqual({ kind: 'relinked', id: ids[2], prev: ids[1] });
    }));

  it('a row inserted out of chain, even one hashed like the real ones', () =>
    onFreshLog('audit_ins', 3, async (wh, ids) => {
      await withoutTrigger(
        wh.db,
        'audit_log_chain',
        `INSERT INTO audit_log (actor, role, action, chain_seq, prev_hash, row_hash)
         SELECT 'intruder', 'bureau', 'x', h.seq + 1, h.hash, 'f' FROM audit_chain_head h`,
      );
      const forged = await sql<{ id: number }>`
        SELECT id FROM audit_log WHERE actor = 'intruder'`.execute(wh.db);
      await withoutTrigger(
        wh.db,
        'audit_log_no_change',
        `UPDATE audit_log SET row_hash = audit_row_hash(chain_seq, prev_hash, id, at, actor, role, department,
           action, target, row_count, details, client_addr) WHERE actor = 'intruder'`,
      );
      expect(broken(await verifyAuditChain(wh.db))).toEqual({
        kind: 'inserted',
        id: Number(forged.rows[0]!.id),
        prev: ids[2],
      });
    }));
});

describe('the migration', () => {
  it('chains the rows written before it, in id order', async () => {
    const url = databaseUrl();
    const schema = `t_audit_mig_${Math.random().toString(36).slice(2, 8)}`;
    const pool = createPool(url, schema);
    const db = createDb(pool);
    const dir = resolve(import.meta.dirname, '../../src/warehouse/migrations');
    const names = readdirSync(dir)
      .filter((f) => /^\d{4}-.*\.ts$/.test(f))
      .sort();
    const migrations: Record<string, Migration> = {};
    for (const f of names) migrations[f.replace(/\.ts$/, '')] = (await import(join(dir, f))) as Migration;
    const mine = Object.keys(migrations).find((n) => n.endsWith('-audit-chain'))!;
    const before = Object.keys(migrations)[Object.keys(migrations).indexOf(mine) - 1]!;
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => migrations },
      migrationTableSchema: schema,
    });
    try {
      await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
      // Kysely's Migrator reads every table of the database first; another test's staging table dropped
      // meanwhile fails that read before any migration runs (migrate() retries the same way).
      const settled = async (run: () => Promise<MigrationResultSet>) => {
        let r = await run();
        for (let a = 1; a <= 5 && isIntrospectionRace(r); a++) {
          await new Promise((ok) => setTimeout(ok, 50 * a));
          r = await run();
        }
        return r;
      };
      expect((await settled(() => migrator.migrateTo(before))).error).toBeUndefined();
      await sql`INSERT INTO audit_log (actor, role, action, target, details)
        SELECT 'old ' || i, 'operator', 'old.write', 't' || i, jsonb_build_object('i', i)
        FROM generate_series(1, 50) i`.execute(db);
      expect((await settled(() => migrator.migrateToLatest())).error).toBeUndefined();
      const rows = await sql<{ id: number; chain_seq: number }>`
        SELECT id, chain_seq FROM audit_log ORDER BY id`.execute(db);
      expect(rows.rows.map((r) => Number(r.chain_seq))).toEqual(rows.rows.map((_, i) => i + 1));
      await writeAudit(db, { actor: 'new', role: 'operator', action: 'new.write' });
      expect(await verifyAuditChain(db)).toMatchObject({ rows: 51, headSeq: 51, broken: null });
    } finally {
      await dropWarehouse(db, schema);
      await db.destroy();
    }
  });
});

describe('roles (README, "Operating it")', () => {
  let wh: Warehouse;
  let app: string;
  beforeAll(async () => {
    wh = (await logWith('audit_roles', 2)).wh;
    app = `${wh.schema}_app`;
    // The application's role as the README creates it: no superuser, owns nothing, the README's grants.
    const [a, sc] = [sql.id(app), sql.id(wh.schema)];
    await sql`CREATE ROLE ${a} NOLOGIN NOSUPERUSER`.execute(wh.db);
    await sql`GRANT USAGE, CREATE ON SCHEMA ${sc} TO ${a}`.execute(wh.db);
    await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${sc} TO ${a}`.execute(wh.db);
    await sql`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${sc} TO ${a}`.execute(wh.db);
    await sql`REVOKE UPDATE, DELETE ON audit_log, audit_chain_head FROM ${a}`.execute(wh.db);
    await sql`GRANT ${sql.id(`${wh.schema}_department`)} TO ${a}`.execute(wh.db);
  });
  afterAll(async () => {
    await sql`DROP OWNED BY ${sql.id(app)}`.execute(wh.db);
    await sql`DROP ROLE ${sql.id(app)}`.execute(wh.db);
    await wh.close();
  });

  const as = <T>(role: string, fn: (trx: Kysely<Database>) => Promise<T>) =>
    wh.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL ROLE ${sql.id(role)}`.execute(trx);
      return fn(trx);
    });

  it('the application role appends through the chain but cannot switch the protection off', async () => {
    await as(app, (trx) => writeAudit(trx, { actor: 'app', role: 'operator', action: 'as.app' }));
    expect(await as(app, (trx) => auditRoleRisks(trx))).toEqual([]);
    await expect(
      as(app, (trx) => sql`SET LOCAL session_replication_role = replica`.execute(trx)),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(as(app, (trx) => sql`DELETE FROM audit_log`.execute(trx))).rejects.toMatchObject({
      code: '42501',
    });
    await expect(
      as(app, (trx) => sql`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`.execute(trx)),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(
      as(app, (trx) => sql`UPDATE audit_chain_head SET seq = 0`.execute(trx)),
    ).rejects.toMatchObject({ code: '42501' });
    expect((await verifyAuditChain(wh.db)).broken).toBeNull();
  });

  it('the application role records a finding and its first event in one statement, as a match does', async () => {
    // Row-level security on finding_events checked the new event against the findings visible before the
    // statement, so a match run by anyone but a superuser failed on the findings it had just inserted.
    await as(app, async (trx) => {
      await sql`
        WITH r AS (INSERT INTO runs (kind, status) VALUES ('match', 'running') RETURNING id),
        f AS (
          INSERT INTO findings (rule_id, subject_key, subject_kind, department, state, first_seen_on,
            first_seen_run, last_seen_on, last_seen_run, deadline)
          SELECT 'R01', 'k-test', 'person', '教育局', 'open', current_date, r.id, current_date, r.id, current_date
          FROM r RETURNING id)
        INSERT INTO finding_events (finding_id, to_state, reason) SELECT id, 'open', 'test' FROM f`.execute(
        trx,
      );
    });
    // A department's session still may not add events to another department's finding.
    const other = await sql<{ id: number }>`SELECT max(id) AS id FROM findings`.execute(wh.db);
    await expect(
      wh.db.transaction().execute(async (trx) => {
        await sql`SELECT set_config('ruralhub.department', '民政局', true)`.execute(trx);
        await sql`SET LOCAL ROLE ${sql.id(`${wh.schema}_department`)}`.execute(trx);
        await sql`INSERT INTO finding_events (finding_id, to_state, reason)
          VALUES (${other.rows[0]!.id}, 'closed', 'x')`.execute(trx);
      }),
    ).rejects.toThrow(/row-level security/);
  });

  it("a department's session (migration 0006's role) appends through the chain too", async () => {
    const dept = `${wh.schema}_department`;
    await as(dept, (trx) => writeAudit(trx, { actor: 'dept', role: 'department', action: 'as.department' }));
    expect(await verifyAuditChain(wh.db)).toMatchObject({ rows: 4, headSeq: 4, broken: null });
  });

  it('warns about a superuser connection', async () => {
    expect((await auditRoleRisks(wh.db)).join('\n')).toMatch(/superuser/);
  });
});

describe('the API records the client address', () => {
  let wh: Warehouse;
  beforeAll(async () => {
    wh = await testWarehouse('audit_api');
  });
  afterAll(async () => wh.close());

  it('of a refused request', async () => {
    const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
    const app = await buildServer({ wh, config, log: silentLogger(), today: () => '2026-11-24' });
    try {
      const { token } = await createToken(wh, { role: 'operator' });
      const res = await app.inject({
        method: 'GET',
        url: '/api/persons/520102199001011234?purpose=check',
        headers: { authorization: `Bearer ${token}` },
        remoteAddress: '192.0.2.44',
      });
      expect(res.statusCode).toBe(403);
      const row = await wh.db
        .selectFrom('audit_log')
        .select(sql<string>`host(client_addr)`.as('addr'))
        .where('action', '=', 'access.denied')
        .executeTakeFirstOrThrow();
      expect(row.addr).toBe('192.0.2.44');
      expect((await verifyAuditChain(wh.db)).broken).toBeNull();
    } finally {
      await app.close();
    }
  });

  it('in one form: an IPv4-mapped IPv6 address as IPv4, an unknown one as none', () => {
    expect(clientAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientAddress('::1')).toBe('::1');
    expect(clientAddress('unknown')).toBeNull();
    expect(clientAddress(undefined)).toBeNull();
  });
});

describe('ruralhub audit verify', () => {
  const dir = tempDir('ruralhub-audit-');
  const verify = (schema: string) => {
    const cfg = join(dir, `${schema}.yaml`);
    writeFileSync(
      cfg,
      `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_TEST_URL, schema: ${schema} }\n`,
    );
    return runCli(['--config', cfg, 'audit', 'verify'], {
      env: { ...process.env, DATABASE_URL: '', RH_TEST_URL: databaseUrl(), RURALHUB_LOG_LEVEL: 'warn' },
    });
  };

  it('exits 0 when intact and 3 naming the row when broken, without personal data', () =>
    onFreshLog('audit_cli', 3, async (wh, ids) => {
      const ok = await verify(wh.schema);
      expect(ok.stderr).toMatch(/warning: role \S+ is a superuser/);
      expect(ok.stdout).toMatch(
        /^audit log intact: 3 row\(s\), chain head position 3, sha256 [0-9a-f]{64}\n$/,
      );
      expect(ok.code).toBe(0);

      await withoutTrigger(
        wh.db,
        'audit_log_no_change',
        `UPDATE audit_log SET target = 'x' WHERE id = ${ids[1]}`,
      );
      const bad = await verify(wh.schema);
      expect(bad.stderr).toContain(`audit log broken: row id ${ids[1]} was changed`);
      expect(bad.code).toBe(3);
      for (const text of [bad.stdout, bad.stderr, ok.stdout]) {
        expect(text).not.toContain('张三');
        expect(text).not.toContain('520102199001011234');
        expect(text).not.toContain('operator 1');
      }
    }));
});
