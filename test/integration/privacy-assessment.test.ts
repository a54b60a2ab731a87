/**
 * `ruralhub privacy assessment` end to end (issue 27): both files written under --out, named after the county;
 * the Word file is a zip whose document holds the sections and a rule's duty; and no secret reaches either file —
 * the environment holds connection strings and a token under the names the config gives, and the documents hold
 * the names only.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openZip } from '../../connectors/xlsx/zip.ts';
import { RULES } from '../../pipelines/rules/index.ts';
import { ASSESSMENT_HEADINGS } from '../../src/reporting/assessment.ts';
import { runCli } from '../support/cli.ts';

const DB_SECRET = 'Sentinel-Db-Pass-8431';
const GA_SECRET = 'Sentinel-Ga-Pass-2290';
const YB_SECRET = 'Sentinel-Yb-Token-5517';

const CONFIG = `
county: { name: 保密县, code: "520198" }
database: { url_env: RH_ASSESS_DB_URL }
feeds:
  deaths:
    source: { kind: sql, dialect: mysql, url_env: RH_ASSESS_GA_URL, table: death_reg, key: [reg_no] }
  settlements:
    source:
      kind: http
      url: https://yb.example.gov.cn/api/settlements
      token_env: RH_ASSESS_YB_TOKEN
      paging: { kind: cursor }
rules:
  R09: { enabled: false }
`;

async function zipText(path: string, part: string): Promise<string> {
  const zip = await openZip(path);
  try {
    const chunks: Buffer[] = [];
    for await (const c of zip.chunks(part)) chunks.push(c);
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    zip.close();
  }
}

describe('ruralhub privacy assessment', () => {
  let dir: string;
  let out: string;
  let md: string;
  let xml: string;
  let stdout: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rh-assessment-'));
    out = join(dir, 'out');
    const config = join(dir, 'county.yaml');
    await writeFile(config, CONFIG);
    const r = await runCli(['--config', config, 'privacy', 'assessment', '--out', out], {
      env: {
        ...process.env,
        RURALHUB_FROM_SOURCE: '1',
        RH_ASSESS_DB_URL: `postgres://rh_app:${DB_SECRET}@db.county.internal:5432/ruralhub`,
        RH_ASSESS_GA_URL: `mysql://ga_reader:${GA_SECRET}@10.20.30.40:3306/hukou`,
        RH_ASSESS_YB_TOKEN: YB_SECRET,
      },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    stdout = r.stdout;
    md = await readFile(join(out, '保密县-个人信息保护影响评估.md'), 'utf8');
    xml = await zipText(join(out, '保密县-个人信息保护影响评估.docx'), 'word/document.xml');
  }, 120_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the Markdown and the Word file under --out and prints their paths', () => {
    expect(stdout).toBe(
      `${join(out, '保密县-个人信息保护影响评估.md')}\n${join(out, '保密县-个人信息保护影响评估.docx')}\n`,
    );
  });

  it("holds every section and each enabled rule's duty in both; the disabled rule in neither table", () => {
    for (const h of ASSESSMENT_HEADINGS) {
      expect(md).toContain(`\n## ${h}\n`);
      expect(xml).toContain(`>${h}</w:t>`);
    }
    expect(xml).toContain(`>${RULES.R01.processing.duty}</w:t>`);
    expect(xml).toContain('>R01 义务教育阶段失学辍学</w:t>');
    expect(md).toContain(`| R01 义务教育阶段失学辍学 | ${RULES.R01.processing.duty} |`);
    expect(md).not.toContain('\n| R09 饮水安全未保障 |');
    expect(md).not.toContain(RULES.R09.processing.duty);
    expect(xml).not.toContain(RULES.R09.processing.duty);
    expect(md).toContain('| 未启用的比对规则 | R09 饮水安全未保障 |');
  });

  it('names the environment variables of the secrets, never their values or a connection string', () => {
    for (const text of [md, xml]) {
      for (const secret of [DB_SECRET, GA_SECRET, YB_SECRET, 'db.county.internal', '10.20.30.40'])
        expect(text).not.toContain(secret);
      for (const scheme of ['postgres://', 'postgresql://', 'mysql://', 'https://', 'http://yb'])
        expect(text).not.toContain(scheme);
    }
    expect(md).toContain(
      '| 死亡人员户籍注销信息（deaths） | 公安局 | 部门数据库直连（只读） | 凭据取自环境变量 RH_ASSESS_GA_URL（值不记入本材料） |',
    );
    expect(md).toContain(
      '| 医疗费用结算明细（settlements） | 医保局 | 部门数据接口（HTTP） | 凭据取自环境变量 RH_ASSESS_YB_TOKEN（值不记入本材料） |',
    );
    expect(md).toContain(
      '只记录所在环境变量的名称（RH_ASSESS_DB_URL、RH_ASSESS_YB_TOKEN、RH_ASSESS_GA_URL）。',
    );
  });

  it('refuses an unknown format in one line', async () => {
    const r = await runCli(['privacy', 'assessment', '--out', out, '--format', 'pdf'], {
      env: { ...process.env, RURALHUB_FROM_SOURCE: '1' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("ruralhub: config error: --format: expected one of md, docx, both, got 'pdf'\n");
  });
});
