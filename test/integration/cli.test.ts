import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, createPool } from '../../src/warehouse/connect.ts';
import { BIN, runCli } from '../support/cli.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { databaseUrl, dropWarehouse } from '../support/warehouse.ts';
import { buildXlsx } from '../support/xlsx-builder.ts';

const dir = tempDir('ruralhub-cli-');

const ruralhub = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { env: { ...process.env, DATABASE_URL: '', RURALHUB_LOG_LEVEL: 'warn', ...env } });

/** The warehouses the tests' configs name: dropped after the file, with their roles (migration 0006's). */
const schemas: string[] = [];
afterAll(async () => {
  for (const schema of schemas) {
    const db = createDb(createPool(databaseUrl(), schema));
    try {
      await dropWarehouse(db, schema);
    } finally {
      await db.destroy();
    }
  }
});

function configFile(extra = ''): string {
  const schema = `cli_${Math.random().toString(36).slice(2, 8)}`;
  schemas.push(schema);
  const file = join(dir, `${schema}.yaml`);
  writeFileSync(
    file,
    `county: { name: 示范县, code: "520102" }\ndatabase: { url_env: RH_TEST_URL, schema: ${schema} }\n${extra}`,
  );
  return file;
}

const schemaOf = (cfg: string) => /schema: (cli_\w+)/.exec(readFileSync(cfg, 'utf8'))![1]!;

async function query<T>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** `script` (util-linux) runs the command on a pseudo-terminal: what a person at a terminal sees. */
const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const sh = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

async function atTerminal(args: string[], env: Record<string, string>) {
  const command = [process.execPath, BIN, ...args].map(sh).join(' ');
  const { RURALHUB_LOG_LEVEL: _, ...inherited } = process.env;
  const r = await new Promise<{ code: number | null; out: string }>((done, fail) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { ...inherited, DATABASE_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, out }));
  });
  // Colours are the terminal's business; the words are the test's. A line redrawn after a carriage return
  // (a progress bar, then the feed's line) shows what was written last, as on the screen.
  const screen = r.out
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape sequences are what is removed
    .replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')
    .split('\n')
    .map((line) => line.replace(/\r+$/, '').split('\r').at(-1) ?? '')
    .join('\n');
  return { code: r.code, out: screen };
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
    const imp = await ruralhub(
      ['--config', cfg, 'import', 'roster', '--file', roster, '--as-of', '2026-11-24'],
      env,
    );
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout).toMatch(/roster\s+r\.csv\s+succeeded\s+2\s+1/);
    expect(
      (
        await ruralhub(
          ['--config', cfg, 'import', 'student_roll', '--file', roll, '--as-of', '2026-11-24'],
          env,
        )
      ).code,
    ).toBe(0);
    expect(
      (
        await ruralhub(
          ['--config', cfg, 'import', 'home_schooling', '--file', home, '--as-of', '2026-11-24'],
          env,
        )
      ).code,
    ).toBe(0);
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
    // The tables (issue 23): details as the rule's 标签：值, a match run's import counts blank, the cut said.
    const ft = await ruralhub(
      ['--config', cfg, 'findings', '--as-of', '2026-11-24', '--columns', 'rule,details'],
      env,
    );
    expect(
      ft.stdout
        .split('\n')
        .slice(2, 4)
        .map((l) => l.slice(0, 4)),
    ).toEqual(['R01 ', 'R13 ']);
    expect(ft.stdout.split('\n')[3]).toBe(
      'R13   数据来源：防返贫监测对象名册 r.csv；行号：3；原始证件号：5.201**E+17；问题：身份证号被存成数字(科学计数法)，后几位已丢失，无法恢复；比对依据：公民身份号码国家标准 GB 11643',
    );
    const limited = await ruralhub(
      ['--config', cfg, 'findings', '--as-of', '2026-11-24', '--limit', '1'],
      env,
    );
    expect(limited.stdout.trim().split('\n').at(-1)).toBe('… 1 more (use --limit)');
    const runs = await ruralhub(['--config', cfg, 'runs', '--limit', '2'], env);
    expect(runs.code, runs.stderr).toBe(0);
    const runLines = runs.stdout.trim().split('\n');
    expect(runLines[0]).toBe(
      'id  kind   feed/rule  status     started_at           read  loaded  quarantined  opened  closed  data_date',
    );
    // R13 found the record with the lost ID (opened 1, closed 0); it read no file of its own.
    expect(runLines[2]).toMatch(
      /^ 5 {2}match {2}R13 {8}succeeded {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {34}1 {7}0$/,
    );
    expect(runLines.slice(4)).toEqual(['… 3 more (use --limit)', 'times in Asia/Shanghai']);
    const everything = [imp, m, f, ft, limited, runs].map((x) => x.stdout + x.stderr).join('\n');
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

  it('reports a usage mistake in one line, exit 2, suggesting the command meant', async () => {
    const opt = await ruralhub(['findings', '--colour']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toBe(
      "ruralhub: usage error: unknown option '--colour' (see `ruralhub findings --help`)\n",
    );
    const cmd = await ruralhub(['improt', 'roster']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toBe(
      "ruralhub: usage error: unknown command 'improt'; did you mean import? (see `ruralhub --help`)\n",
    );
    const arg = await ruralhub(['identity', 'link', '12']);
    expect(arg.code).toBe(2);
    expect(arg.stderr.trim().split('\n')).toHaveLength(1);
    expect(arg.stderr).toMatch(/required option '--person <key>' not specified/);
    // Help asked for stays help, exit 0.
    expect((await ruralhub(['findings', '--help'])).code).toBe(0);
  });

  it('rejects an unknown time zone as a config error naming the key, before anything starts', async () => {
    // The database is unreachable: had the zone been checked after connecting, this would exit 75.
    const r = await ruralhub(['--config', configFile('timezone: Asia/Shangai\n'), 'runs'], {
      RH_TEST_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/timezone: 'Asia\/Shangai' is not a time zone/);
    // An abbreviation Intl takes is refused all the same: CST would be America/Chicago, not China.
    const cst = await ruralhub(['--config', configFile('timezone: CST\n'), 'runs'], {
      RH_TEST_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(cst.code).toBe(2);
    expect(cst.stderr).toMatch(/timezone: 'CST' is not a time zone/);
  });

  it('refuses to link an identity-review item that does not exist, naming it, exit 2', async () => {
    const env = { RH_TEST_URL: databaseUrl() };
    const cfg = configFile();
    expect((await ruralhub(['--config', cfg, 'migrate'], env)).code).toBe(0);
    const roster = writeCsv(join(dir, 'r-link.csv'), [
      ['户编号', '姓名', '证件号码', '户类型', '乡镇', '村'],
      ['H1', '甲', '520102201508310028', '监测户', '城关镇', '新村'],
    ]);
    expect((await ruralhub(['--config', cfg, 'import', 'roster', '--file', roster], env)).code).toBe(0);
    const [person] = await query<{ person_key: number }>(
      `select person_key from ${schemaOf(cfg)}.persons limit 1`,
    );
    const r = await ruralhub(
      ['--config', cfg, 'identity', 'link', '99', '--person', String(person!.person_key)],
      env,
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no identity-review item 99 .*nothing was changed/);
    const d = await ruralhub(['--config', cfg, 'identity', 'dismiss', '98', '99'], env);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/no identity-review item 98, 99 /);
    expect(await query(`select 1 from ${schemaOf(cfg)}.audit_log where action like 'identity.%'`)).toEqual(
      [],
    );
  });

  it('refuses a --sheet the workbook does not have, naming its sheets, and records no failed run', async () => {
    const env = { RH_TEST_URL: databaseUrl() };
    const cfg = configFile();
    expect((await ruralhub(['--config', cfg, 'migrate'], env)).code).toBe(0);
    const book = join(dir, '名册.xlsx');
    const rows = [
      ['户编号', '姓名', '证件号码', '户类型', '乡镇', '村'],
      ['H1', '甲', '520102201508310028', '监测户', '城关镇', '新村'],
    ];
    await buildXlsx(book, [
      { name: '填表说明', rows: [['说明']] },
      { name: '2026年', rows },
      { name: '旧表', rows, state: 'hidden' },
    ]);
    const r = await ruralhub(['--config', cfg, 'import', 'roster', '--file', book, '--sheet', '2025年'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "ruralhub: config error: --sheet: 名册.xlsx has no sheet named '2025年'; its sheets are 0: 填表说明, 1: 2026年, 2: 旧表 (hidden)\n",
    );
    const n = await ruralhub(['--config', cfg, 'import', 'roster', '--file', book, '--sheet', '3'], env);
    expect(n.code).toBe(2);
    expect(n.stderr).toMatch(/no sheet number 3; its sheets are 0: 填表说明/);
    expect(await query(`select 1 from ${schemaOf(cfg)}.runs`)).toEqual([]);
    const ok = await ruralhub(
      ['--config', cfg, 'import', 'roster', '--file', book, '--sheet', '2026年'],
      env,
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/roster\s+名册\.xlsx\s+succeeded\s+1\s+1/);
  });

  it.skipIf(!hasScript)(
    'shows a person at a terminal a few lines per feed, not the log; elsewhere the JSON log is complete',
    async () => {
      const env = { RH_TEST_URL: databaseUrl() };
      const cfg = configFile();
      expect((await ruralhub(['--config', cfg, 'migrate'], env)).code).toBe(0);
      const roster = writeCsv(join(dir, 'r-tty.csv'), [
        ['户编号', '姓名', '证件号码', '户类型', '乡镇', '村', '备注'],
        ['H1', '甲', '520102201508310028', '监测户', '城关镇', '新村', ''],
        ['H2', '乙', '5.20102E+17', '监测户', '城关镇', '新村', ''],
      ]);
      const t = await atTerminal(['--config', cfg, 'import', 'roster', '--file', roster], env);
      expect(t.code, t.out).toBe(0);
      expect(t.out).not.toMatch(/INFO|published|run_id/);
      expect(t.out).toMatch(
        /^roster {2}r-tty\.csv {2}succeeded: 2 read, 1 loaded \(1 new, 0 changed, 0 ended\), 1 quarantined {2}\[\d+\.\ds\]$/m,
      );
      expect(t.out).toMatch(/^ {2}columns not used: 备注$/m);
      expect(t.out).toMatch(/roster\s+r-tty\.csv\s+succeeded\s+2\s+1/); // the table, as always
      expect(t.out.trim().split('\n').length).toBeLessThan(12);
      // --verbose at a terminal: the log again.
      const v = await atTerminal(
        ['--config', cfg, '--verbose', 'import', 'roster', '--file', roster, '--force'],
        env,
      );
      expect(v.out).toMatch(/published/);
      // Not a terminal: every INFO line, as JSON, on stderr; stdout only the table.
      const { RURALHUB_LOG_LEVEL: _, ...inherited } = process.env;
      const j = await runCli(['--config', cfg, 'import', 'roster', '--file', roster, '--force'], {
        env: { ...inherited, DATABASE_URL: '', ...env },
      });
      expect(j.code).toBe(0);
      const log = j.stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { msg: string });
      expect(log.map((l) => l.msg)).toEqual(expect.arrayContaining(['staged', 'published']));
      expect(j.stdout).not.toMatch(/\[\d+\.\ds\]/);
    },
  );

  it.skipIf(!hasScript)('times each feed of the demo by itself, not since the start', async () => {
    const out = join(dir, 'demo-out');
    const cfg = configFile(`paths: { output_dir: ${out} }\n`);
    const t = await atTerminal(['--config', cfg, 'demo', '--persons', '50', '--as-of', '2026-11-24'], {
      RH_TEST_URL: databaseUrl(),
    });
    expect(t.code, t.out).toBe(0);
    expect(t.out).not.toMatch(/INFO/);
    const feeds = [...t.out.matchAll(/^ {6}(\w+) {2}.* {2}\[(\d+\.\d)s\]$/gm)].map(
      (m) => [m[1], Number(m[2])] as const,
    );
    expect(feeds.map(([f]) => f)).toEqual(
      expect.arrayContaining(['roster', 'student_roll', 'deaths', 'disasters']),
    );
    const total = Number(/^done in (\d+\.\d)s/m.exec(t.out)![1]);
    // Times since the start would add up to far more than the run took.
    const sum = feeds.reduce((a, [, s]) => a + s, 0);
    expect(sum).toBeLessThanOrEqual(total + 0.05 * feeds.length);
    expect(Math.max(...feeds.map(([, s]) => s))).toBeLessThan(total);
  });
});
