/**
 * The inputs of the 个人信息保护影响评估 (PIPL Art. 55–56; issue 27), for the bureau to complete, sign and keep:
 * what is processed and why (each enabled rule's record of processing, as `ruralhub privacy rules` shows it), the
 * classification of every feed field, and the protections this deployment applies — all read from the
 * declarations and the loaded config, never from the environment: a secret or a connection string cannot reach
 * the document, only the names of the environment variables that hold them. The risk assessment and the
 * conclusion are left blank for the bureau; the document says so.
 *
 * One model (`assessmentDocument`), two renderings: Markdown (`assessmentMarkdown`) and Word
 * (`writeAssessmentDocx`; docx is loaded on first use, as in write-docx.ts).
 */
import { writeFile } from 'node:fs/promises';
import { formatLocal } from '../../core/clock.ts';
import type { RuleRegistry } from '../../pipelines/rules/index.ts';
import { describeProcessing, type ProcessingView } from '../../pipelines/rules/privacy.ts';
import type { Config } from '../../schemas/config.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { sourceKindOf } from '../../schemas/sources.ts';
import { PURPOSE } from '../delivery/export-lists.ts';
import { selectRules } from '../matching/run-match.ts';
import { type DocxBlock, docxParts } from './docx-parts.ts';
import { SMALL_CELL } from './monthly-report.ts';

/** One piece of the document, rendered as Markdown or Word. */
export type AssessmentBlock =
  | { kind: 'heading'; text: string; level: 1 | 2 }
  | { kind: 'paragraph'; text: string }
  | { kind: 'items'; items: string[] }
  | { kind: 'table'; headers: string[]; rows: string[][] }
  /** Lines left empty for the bureau to write on. */
  | { kind: 'blank'; lines: number };

export interface AssessmentDocument {
  title: string;
  blocks: AssessmentBlock[];
}

export interface AssessmentInput {
  config: Readonly<Config>;
  /** The rule registry; only the rules the config enables are listed. */
  rules: RuleRegistry;
  feeds: readonly FeedDefinition[];
  generatedAt: Date;
}

export const ASSESSMENT_HEADINGS = [
  '一、处理概况',
  '二、处理活动清单',
  '三、数据分级',
  '四、安全与保护措施',
  '五、风险评估与结论',
  '签字栏',
] as const;

/** `<county>-个人信息保护影响评估`: the files' name without extension. */
export const assessmentFileBase = (config: Readonly<Config>) => `${config.county.name}-个人信息保护影响评估`;

const SOURCE_KIND_LABEL: Readonly<Record<string, string>> = {
  sql: '部门数据库直连（只读）',
  http: '部门数据接口（HTTP）',
};

/** The names of the environment variables a source reads its credentials from (never their values). */
function sourceEnvNames(source: object): string[] {
  const names: string[] = [];
  if ('url_env' in source && typeof source.url_env === 'string') names.push(source.url_env);
  if ('token_env' in source && typeof source.token_env === 'string') names.push(source.token_env);
  return names;
}

/** The closed-finding retention of a rule in this deployment: the config's findings_years overrides the rule's. */
const findingYears = (config: Readonly<Config>, v: ProcessingView) =>
  config.retention.findings_years ?? v.retentionYears;

function activityRow(config: Readonly<Config>, v: ProcessingView): string[] {
  const reads = v.inputs.map(
    (i) => `${i.title}（${i.department}）：${i.fields.map((f) => `${f.label}[${f.grade}]`).join('、')}`,
  );
  return [
    `${v.id} ${v.name}`,
    v.duty,
    v.legalBasis,
    [...reads, `规则分级：${v.grade}`].join('；'),
    v.disclosed.join('、'),
    v.recipients.join('、'),
    `结案后保存${findingYears(config, v)}年`,
    v.minorsLabel,
  ];
}

/** The document: sections 一 to 五 and the signatures, from the declarations and the config alone. */
export function assessmentDocument(input: AssessmentInput): AssessmentDocument {
  const { config } = input;
  const tz = config.timezone;
  const all = Object.values(input.rules);
  const enabled = selectRules(config, input.rules);
  const disabled = all.filter((r) => !enabled.includes(r));
  const views = enabled.map(describeProcessing);
  const title = `${config.county.name}个人信息保护影响评估（输入材料）`;
  const r = config.retention;
  const a = config.approvals;
  const blocks: AssessmentBlock[] = [];
  const h1 = (text: string) => blocks.push({ kind: 'heading', text, level: 1 });
  const h2 = (text: string) => blocks.push({ kind: 'heading', text, level: 2 });
  const p = (text: string) => blocks.push({ kind: 'paragraph', text });

  p(
    '本材料由 RuralHub 根据各比对规则声明的处理活动记录、数据字段分级和本县部署配置生成，供开展个人信息保护影响评估使用（《中华人民共和国个人信息保护法》第五十五条、第五十六条）。第五部分由评估人填写，评估报告和处理情况记录应当至少保存三年。',
  );

  h1(ASSESSMENT_HEADINGS[0]);
  const sources = input.feeds.map((f) => {
    const source = config.feeds[f.id]?.source;
    if (!source) return [`${f.title}（${f.id}）`, f.department, '文件导入（部门报送 Excel/CSV）', '—'];
    const kind = sourceKindOf(source) ?? '未知';
    const env = sourceEnvNames(source);
    return [
      `${f.title}（${f.id}）`,
      f.department,
      SOURCE_KIND_LABEL[kind] ?? kind,
      env.length ? `凭据取自环境变量 ${env.join('、')}（值不记入本材料）` : '—',
    ];
  });
  blocks.push({
    kind: 'table',
    headers: ['项目', '内容'],
    rows: [
      ['县（市、区）', `${config.county.name}（${config.county.code}）`],
      ['个人信息处理者', `${config.county.name}乡村振兴局及各数据提供部门`],
      [
        '处理目的',
        '防止返贫动态监测和帮扶：比对各部门数据，发现监测对象应享未享、应管未管等疑点，交有关部门在法定职责范围内核实整改',
      ],
      [
        '处理系统',
        `RuralHub 跨部门数据比对系统，数据存于本县 PostgreSQL 数据仓库（连接串取自环境变量 ${config.database.url_env}，值不记入本材料；未设置时使用本机嵌入式数据库）`,
      ],
      [
        '启用的比对规则',
        `${enabled.length}条：${enabled.map((x) => `${x.id} ${x.name}`).join('、') || '无'}`,
      ],
      ['未启用的比对规则', disabled.length ? disabled.map((x) => `${x.id} ${x.name}`).join('、') : '无'],
      ['时区', tz],
      ['生成时间', `${formatLocal(tz, input.generatedAt)}（${tz}）`],
    ],
  });
  h2('数据来源');
  blocks.push({ kind: 'table', headers: ['数据', '提供部门', '获取方式', '凭据'], rows: sources });

  h1(ASSESSMENT_HEADINGS[1]);
  p(
    '每条启用的比对规则一行。读取的数据列出规则查询实际读取的字段及其分级；规则分级取所读字段的最高分级（就高从严），也是其疑点的分级。',
  );
  blocks.push({
    kind: 'table',
    headers: [
      '规则',
      '职责',
      '法律依据',
      '读取的数据及分级',
      '披露字段',
      '接收部门',
      '保存期限',
      '是否涉及未成年人',
    ],
    rows: views.map((v) => activityRow(config, v)),
  });

  h1(ASSESSMENT_HEADINGS[2]);
  p('各部门数据的每个字段及其分级（一般、个人信息、敏感个人信息；《中华人民共和国数据安全法》第二十一条）。');
  blocks.push({
    kind: 'table',
    headers: ['数据', '部门', '字段', '名称', '分级'],
    rows: input.feeds.flatMap((f) =>
      Object.entries(f.fields).map(([name, spec]) => [
        `${f.title}（${f.id}）`,
        f.department,
        name,
        spec.label ?? spec.aliases[0] ?? name,
        spec.classification,
      ]),
    ),
  });

  h1(ASSESSMENT_HEADINGS[3]);
  const retentionJobs = Object.entries(config.scheduler.jobs).filter(
    ([, j]) => j.kind === 'retention' && j.enabled,
  );
  blocks.push({
    kind: 'items',
    items: [
      '身份证号脱敏：除部门本单位清单和经授权并记入审计日志的查询外，身份证号只显示前4位和后4位，中间以*代替。',
      '审计日志：人员查询、完整身份证号的列出、清单导出、审批和删除均写入审计日志；日志逐条哈希链接，只追加不改写，可用 ruralhub audit verify 校验是否被篡改。',
      `批量披露审批（四眼原则）：ruralhub findings --full-ids 列出超过${a.findings_full_ids_max_rows}行的，须另一人审批；每个接口令牌每日人员查询超过${a.person_lookups_per_day}次的，须另一人审批；审批须在申请后${a.valid_hours}小时内作出并使用，每次审批只能使用一次。`,
      `清单用途标注：每份导出清单均标明用途“${PURPOSE}”及接收部门、清单版本、数据截至日、导出时间和导出人。`,
      `小数抑制：对外印发的月通报中，村级数字小于${SMALL_CELL}的显示为“<${SMALL_CELL}”。`,
      `密钥管理：数据库连接串和接口令牌不写入配置文件，只记录所在环境变量的名称（${[
        config.database.url_env,
        ...input.feeds.flatMap((f) => {
          const s = config.feeds[f.id]?.source;
          return s ? sourceEnvNames(s) : [];
        }),
      ].join('、')}）。`,
      retentionJobs.length
        ? `到期删除：由定时作业 ${retentionJobs.map(([name, j]) => `${name}（${j.cron}）`).join('、')} 按下表保存期限执行（ruralhub retention run），每类删除写入审计日志。`
        : '到期删除：按下表保存期限执行 ruralhub retention run（本县配置中未设定定时作业，须人工定期执行），每类删除写入审计日志。',
    ],
  });
  h2('保存期限');
  blocks.push({
    kind: 'table',
    headers: ['类别', '保存期限', '配置项'],
    rows: [
      [
        '已结案疑点（含处理记录）',
        r.findings_years === undefined
          ? `结案后按各规则声明保存（${[...new Set(views.map((v) => v.retentionYears))].map((y) => `${y}年`).join('、') || '—'}）`
          : `结案后${r.findings_years}年`,
        'retention.findings_years',
      ],
      ['数据历史版本', `失效后${r.history_years}年`, 'retention.history_years'],
      ['不再在任何名册中的人员身份证号', `${r.lists_years}年`, 'retention.lists_years'],
      ['隔离行的原始值', `${r.quarantine_days}天`, 'retention.quarantine_days'],
      ['已导入的投递文件', `${r.drop_files_days}天`, 'retention.drop_files_days'],
    ],
  });

  h1(ASSESSMENT_HEADINGS[4]);
  p('（由评估人填写）');
  for (const prompt of [
    '（一）处理目的、处理方式等是否合法、正当、必要：',
    '（二）对个人权益的影响及安全风险：',
    '（三）所采取的保护措施是否合法、有效并与风险程度相适应：',
    '（四）评估结论：',
  ]) {
    p(prompt);
    blocks.push({ kind: 'blank', lines: 4 });
  }

  h1(ASSESSMENT_HEADINGS[5]);
  blocks.push({
    kind: 'table',
    headers: ['角色', '签字', '日期'],
    rows: [
      ['评估人', '', ''],
      ['审核人', '', ''],
    ],
  });
  return { title, blocks };
}

const BLANK_LINE = '＿'.repeat(40);

/** A Markdown table cell: `|` escaped and line breaks as `<br>`, so a value cannot split its row. */
const mdCell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', '<br>');

export function assessmentMarkdown(doc: AssessmentDocument): string {
  const out: string[] = [`# ${doc.title}`];
  for (const b of doc.blocks) {
    if (b.kind === 'heading') out.push(`${b.level === 1 ? '##' : '###'} ${b.text}`);
    else if (b.kind === 'paragraph') out.push(b.text);
    else if (b.kind === 'items') out.push(b.items.map((i) => `- ${i}`).join('\n'));
    else if (b.kind === 'blank') out.push(Array.from({ length: b.lines }, () => BLANK_LINE).join('\n\n'));
    else {
      const row = (r: readonly string[]) => `| ${r.map(mdCell).join(' | ')} |`;
      out.push([row(b.headers), row(b.headers.map(() => '---')), ...b.rows.map(row)].join('\n'));
    }
  }
  return `${out.join('\n\n')}\n`;
}

export async function writeAssessmentDocx(path: string, doc: AssessmentDocument): Promise<void> {
  const d = await import('docx');
  const { para, cell, table, docx } = docxParts(d);
  const body: DocxBlock[] = [para(doc.title, { bold: true, size: 36, heading: true, center: true })];
  for (const b of doc.blocks) {
    if (b.kind === 'heading') body.push(para(b.text, { heading: true, size: b.level === 1 ? 28 : 24 }));
    else if (b.kind === 'paragraph') body.push(para(b.text));
    else if (b.kind === 'items') for (const i of b.items) body.push(para(`• ${i}`));
    else if (b.kind === 'blank') for (let n = 0; n < b.lines; n++) body.push(para(BLANK_LINE));
    else
      body.push(
        table(
          b.headers,
          b.rows.map((r) => r.map((c) => cell(c))),
        ),
      );
  }
  // landscape: the 处理活动清单 has eight columns
  await writeFile(path, await docx(doc.title, body));
}
