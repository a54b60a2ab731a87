/**
 * `ruralhub privacy assessment` (issue 27): the 个人信息保护影响评估 inputs are built from each enabled rule's record
 * of processing, the feeds' classification and the config's values — a rule the config disables has no row, and
 * the retention and approval numbers are the config's.
 */
import { describe, expect, it } from 'vitest';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import { RULES } from '../../pipelines/rules/index.ts';
import { describeProcessing } from '../../pipelines/rules/privacy.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import {
  ASSESSMENT_HEADINGS,
  assessmentDocument,
  assessmentFileBase,
  assessmentMarkdown,
} from '../../src/reporting/assessment.ts';

const CONFIG = `
county: { name: 测试县, code: "520199" }
timezone: Asia/Shanghai
rules:
  R02: { enabled: false }
  R05: { deadline_days: 20 }
retention:
  drop_files_days: 31
  quarantine_days: 121
  history_years: 7
  lists_years: 6
  findings_years: 4
approvals:
  findings_full_ids_max_rows: 25
  person_lookups_per_day: 40
  valid_hours: 12
scheduler:
  jobs:
    monthly-retention: { kind: retention, cron: '0 3 1 * *' }
`;

// 2026-12-03 17:30 UTC is 2026-12-04 01:30 in Beijing: the date is the county's.
const GENERATED_AT = new Date('2026-12-03T17:30:00Z');

function markdown(configText: string): string {
  const config = parseConfig(configText, 'test.yaml');
  return assessmentMarkdown(
    assessmentDocument({ config, rules: RULES, feeds: Object.values(FEEDS), generatedAt: GENERATED_AT }),
  );
}

/** The cells of the Markdown table row whose first cell is `first`. */
function row(md: string, first: string): string[] | undefined {
  const line = md.split('\n').find((l) => l.startsWith(`| ${first} |`));
  return line?.replace(/^\| /, '').replace(/ \|$/, '').split(' | ');
}

describe('privacy assessment', () => {
  const md = markdown(CONFIG);

  it('has the sections in order, the county and the time it was generated in the county zone', () => {
    const at = ASSESSMENT_HEADINGS.map((h) => md.indexOf(`\n## ${h}\n`));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(md.startsWith('# 测试县个人信息保护影响评估（输入材料）\n')).toBe(true);
    expect(row(md, '县（市、区）')).toEqual(['县（市、区）', '测试县（520199）']);
    expect(row(md, '生成时间')).toEqual(['生成时间', '2026-12-04 01:30（Asia/Shanghai）']);
    expect(assessmentFileBase(parseConfig(CONFIG, 'test.yaml'))).toBe('测试县-个人信息保护影响评估');
  });

  it("lists every enabled rule's duty, legal basis, recipients, disclosure, retention and minors; none of a disabled one", () => {
    for (const rule of Object.values(RULES)) {
      const v = describeProcessing(rule);
      const cells = row(md, `${v.id} ${v.name}`);
      if (rule.id === 'R02') {
        expect(cells).toBeUndefined();
        continue;
      }
      expect(cells, rule.id).toBeDefined();
      expect(cells![1]).toBe(v.duty);
      expect(cells![2]).toBe(v.legalBasis);
      expect(cells![3]!.endsWith('；规则分级：敏感个人信息')).toBe(true);
      expect(cells![4]).toBe(v.disclosed.join('、'));
      expect(cells![5]).toBe(v.recipients.join('、'));
      expect(cells![6]).toBe('结案后保存4年');
      expect(cells![7]).toBe(v.minorsLabel);
    }
    expect(row(md, '未启用的比对规则')).toEqual(['未启用的比对规则', 'R02 未参加基本医疗保险']);
    expect(row(md, 'R01 义务教育阶段失学辍学')![3]!.startsWith('防返贫监测对象名册（乡村振兴局）：')).toBe(
      true,
    );
  });

  it('has R02 back when the config enables it, kept as its rule declares without findings_years', () => {
    const all = markdown('county: { name: 测试县, code: "520199" }\n');
    const r02 = describeProcessing(RULES.R02);
    expect(row(all, 'R02 未参加基本医疗保险')?.slice(5)).toEqual([
      '医保局',
      '结案后保存3年',
      '是（含未成年人）',
    ]);
    expect(row(all, 'R02 未参加基本医疗保险')![1]).toBe(r02.duty);
    expect(row(all, '未启用的比对规则')).toEqual(['未启用的比对规则', '无']);
    expect(row(all, '已结案疑点（含处理记录）')).toEqual([
      '已结案疑点（含处理记录）',
      '结案后按各规则声明保存（3年）',
      'retention.findings_years',
    ]);
    expect(all).toContain('（本县配置中未设定定时作业，须人工定期执行）');
  });

  it("states the config's retention schedule, approvals thresholds and retention job", () => {
    expect(row(md, '已结案疑点（含处理记录）')).toEqual([
      '已结案疑点（含处理记录）',
      '结案后4年',
      'retention.findings_years',
    ]);
    expect(row(md, '数据历史版本')).toEqual(['数据历史版本', '失效后7年', 'retention.history_years']);
    expect(row(md, '不再在任何名册中的人员身份证号')).toEqual([
      '不再在任何名册中的人员身份证号',
      '6年',
      'retention.lists_years',
    ]);
    expect(row(md, '隔离行的原始值')).toEqual(['隔离行的原始值', '121天', 'retention.quarantine_days']);
    expect(row(md, '已导入的投递文件')).toEqual(['已导入的投递文件', '31天', 'retention.drop_files_days']);
    expect(md).toContain(
      '- 批量披露审批（四眼原则）：ruralhub findings --full-ids 列出超过25行的，须另一人审批；每个接口令牌每日人员查询超过40次的，须另一人审批；审批须在申请后12小时内作出并使用，每次审批只能使用一次。\n',
    );
    expect(md).toContain(
      '- 到期删除：由定时作业 monthly-retention（0 3 1 * *） 按下表保存期限执行（ruralhub retention run），每类删除写入审计日志。\n',
    );
    expect(md).toContain('- 小数抑制：对外印发的月通报中，村级数字小于5的显示为“<5”。\n');
    expect(md).toContain(
      '- 清单用途标注：每份导出清单均标明用途“疑点清单，仅用于核实整改，不得转作他用或对外提供”及接收部门、清单版本、数据截至日、导出时间和导出人。\n',
    );
  });

  it('grades every field of every feed as its declaration does', () => {
    for (const f of Object.values(FEEDS))
      for (const [name, spec] of Object.entries(f.fields))
        expect(row(md, `${f.title}（${f.id}） | ${f.department} | ${name}`)?.[4], `${f.id}.${name}`).toBe(
          spec.classification,
        );
  });

  it('leaves the conclusion and the signatures blank', () => {
    const conclusion = md.slice(md.indexOf('## 五、风险评估与结论'), md.indexOf('## 签字栏'));
    expect(conclusion).toContain(`（四）评估结论：\n\n${'＿'.repeat(40)}\n`);
    expect(row(md, '评估人')).toEqual(['评估人', '', '']);
    expect(row(md, '审核人')).toEqual(['审核人', '', '']);
  });
});
