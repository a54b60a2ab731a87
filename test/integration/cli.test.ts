import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { databaseUrl } from '../support/warehouse.ts';

const dir = tempDir('ruralhub-cli-');

const ruralhub = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { env: { ...process.env, DATABASE_URL: '', RURALHUB_LOG_LEVEL: 'warn', ...env } });

function configFile(extra = ''): string {
  const schema = `cli_${Math.random().toString(36).slice(2, 8)}`;
  const file = join(dir, `${schema}.yaml`);
  writeFileSync(
    file,
    `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_TEST_URL, schema: ${schema} }\n${extra}`,
  );
  return file;
}

describe('the ruralhub command', () => {
  it('explains itself with --help, with an example per command', async () => {
    const r = await ruralhub(['import', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--file <path\.\.\.>/);
    expect(r.stdout).toMatch(/Example:\n {2}\$ ruralhub import student_roll/);
  });

  it('rejects a malformed config in one line naming the key path, exit 2, no stack trace', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'county: { name: 示范县, code: "52" }\nrules: { R01: { deadline_days: soon } }\n');
    const r = await ruralhub(['--config', bad, 'runs']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/county\.code: a 6-digit county code/);
    expect(r.stderr).toMatch(/rules\.R01\.deadline_days: /);
    expect(r.stderr).not.toMatch(/\s+at /);
  });

  it('rejects an unknown feed and lists the valid ones', async () => {
    const r = await ruralhub(['--config', configFile(), 'import', 'schools', '--file', 'x.csv']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown feed 'schools'; feeds are: roster, student_roll/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reports a missing input file in one line, exit 3', async () => {
    const env = { RH_TEST_URL: databaseUrl() };
    const cfg = configFile();
    expect((await ruralhub(['--config', cfg, 'migrate'], env)).code).toBe(0);
    const r = await ruralhub(['--config', cfg, 'import', 'roster', '--file', join(dir, 'nope.csv')], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/input file not found: .*nope\.csv/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('imports, matches and prints findings with masked IDs; never prints the database password', async () => {
    const url = new URL(databaseUrl());
    const env = { RH_TEST_URL: url.toString() };
    const cfg = configFile();
    expect((await ruralhub(['--config', cfg, 'migrate'], env)).code).toBe(0);
    const roster = writeCsv(join(dir, 'r.csv'), [
      ['户编号', '姓名', '证件号码', '户类型', '乡镇', '村'],
      ['H1', '甲', '520102201508310028', '监测户', '城关镇', '新村'],
      ['H2', '乙', '5.20102E+17', '监测户', '城关镇', '新村'], // destroyed by Excel: an R13 record finding
    ]);
    const roll = writeCsv(join(dir, 's.csv'), [['学生姓名', '身份证件号', '学籍状态']]);
    const home = writeCsv(join(dir, 'h.csv'), [['姓名', '身份证号']]);
    const imp = await ruralhub(['--config', cfg, 'import', 'roster', '--file', roster], env);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout).toMatch(/roster\s+r\.csv\s+succeeded\s+2\s+1/);
    expect((await ruralhub(['--config', cfg, 'import', 'student_roll', '--file', roll], env)).code).toBe(0);
    expect((await ruralhub(['--config', cfg, 'import', 'home_schooling', '--file', home], env)).code).toBe(0);
    const m = await ruralhub(
      ['--config', cfg, 'match', '--rule', 'R01', 'R13', '--as-of', '2026-11-24'],
      env,
    );
    expect(m.code, m.stderr).toBe(0);
    const f = await ruralhub(['--config', cfg, 'findings', '--format', 'json', '--as-of', '2026-11-24'], env);
    const rows = JSON.parse(f.stdout) as { rule: string; id_number: string; state: string }[];
    expect(rows).toEqual([
      expect.objectContaining({ rule: 'R01', id_number: '5201**********0028', state: 'open' }),
      // No person to name: the record is identified by its file and the row a spreadsheet shows.
      expect.objectContaining({
        rule: 'R13',
        subject_kind: 'record',
        id_number: null,
        source_file: 'r.csv',
        source_row: 3,
        name: '乙',
      }),
    ]);
    const everything = [imp, m, f].map((x) => x.stdout + x.stderr).join('\n');
    expect(everything).not.toContain('520102201508310028');
    if (url.password) expect(everything).not.toContain(url.password);
  });

  it('never prints the password of a connection string it cannot use', async () => {
    const sentinel = 'S3ntinel-Pa55word-xyz';
    const r = await ruralhub(['--config', configFile(), 'runs'], {
      RH_TEST_URL: `postgres://etl:${sentinel}@127.0.0.1:1/none`,
    });
    expect(r.code).toBe(75);
    expect(r.stderr).toMatch(/cannot connect to PostgreSQL at 127\.0\.0\.1:1\/none/);
    expect(r.stderr + r.stdout).not.toContain(sentinel);
  });

  it('check and discover tell an operator how a file would be read, without loading it', async () => {
    const good = writeCsv(join(dir, 'roll-good.csv'), [
      ['学籍名册（2026年秋季）'],
      ['学生姓名', '身份证件号', '学籍状态', '备注'],
      ['张三', '520102201508310028', '在读', ''],
    ]);
    const c = await ruralhub(['--config', configFile(), 'check', 'student_roll', '--file', good]);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/^ok: roll-good\.csv: header on row 2, 1 data rows/);
    expect(c.stdout).toMatch(/columns not read: 备注/);
    const d = await ruralhub(['--config', configFile(), 'discover', 'student_roll', '--file', good]);
    expect(d.stdout).toMatch(/id_number\s+yes\s+身份证件号/);
    expect(d.stdout).toMatch(/school_name\s+—/);
    const bad = writeCsv(join(dir, 'roll-bad.csv'), [
      ['姓名', '证号', '状态'],
      ['张三', '1', '在读'],
    ]);
    const b = await ruralhub(['--config', configFile(), 'check', 'student_roll', '--file', bad]);
    expect(b.code).toBe(3);
    expect(b.stdout).toMatch(
      /NOT OK: roll-bad\.csv: no sheet has the required columns of student_roll \(file misses id_number/,
    );
  });
});
