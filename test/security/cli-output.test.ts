/**
 * What the CLI writes for a spreadsheet: `--format csv > file.csv` is opened in Excel or WPS, so a value that
 * would run as a formula (= + - @, and their full-width forms) is written as text, as every file the system
 * writes is; and a subcommand's --format is honoured although its parent has the same option.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countyCli } from '../support/county-cli.ts';
import { writeCsv } from '../support/files.ts';

const { dir, ruralhub, drop } = countyCli('cliout');
afterAll(drop);

describe('CLI output meant for a spreadsheet', () => {
  it('neutralizes formula-looking values in --format csv, full-width forms included', async () => {
    expect((await ruralhub(['migrate'])).code).toBe(0);
    const roster = writeCsv(join(dir, 'r.csv'), [
      ['户编号', '姓名', '证件号码', '户类型', '乡镇', '村'],
      ['H1', '甲', '=HYPERLINK("http://x","y")', '监测户', '城关镇', '新村'],
      ['H2', '乙', '＝1+1', '监测户', '城关镇', '新村'],
      ['H3', '丙', '@SUM(A1)', '监测户', '城关镇', '新村'],
    ]);
    expect((await ruralhub(['import', 'roster', '--file', roster])).code).toBe(0);
    const q = await ruralhub(['quarantine', '--format', 'csv']);
    expect(q.code).toBe(0);
    expect(q.stdout).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(q.stdout).toContain("'＝1+1");
    expect(q.stdout).toContain("'@SUM(A1)");
    expect(q.stdout).not.toMatch(/(^|,)[=＝@]/m);
  });

  it('findings review --format json is JSON', async () => {
    const r = await ruralhub(['findings', 'review', '--format', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it('tokens create --expires gives the token an end; a past or malformed one is a usage error', async () => {
    const r = await ruralhub([
      'tokens',
      'create',
      '--role',
      'operator',
      '--label',
      'expiring',
      '--expires',
      '30d',
    ]);
    expect(r.code).toBe(0);
    const list = await ruralhub(['tokens', 'list', '--format', 'json']);
    const rows = JSON.parse(list.stdout) as { label: string; expires_at: string | null }[];
    // Written in the county's zone with its offset (the test config's Asia/Shanghai), not UTC.
    expect(rows.find((t) => t.label === 'expiring')!.expires_at).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/,
    );
    const table = await ruralhub(['tokens', 'list']);
    expect(table.stdout).toMatch(/expiring .*\d{4}-\d\d-\d\d \d\d:\d\d/);
    expect(table.stdout).toContain('times in Asia/Shanghai');
    const days =
      (Date.parse(rows.find((t) => t.label === 'expiring')!.expires_at!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
    for (const bad of ['2020-01-01', 'soon', '2026-02-30']) {
      const b = await ruralhub(['tokens', 'create', '--role', 'operator', '--expires', bad]);
      expect(b.code).toBe(2);
      expect(b.stderr).toMatch(/--expires: expected a future date/);
    }
  });
});
