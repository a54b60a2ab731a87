/**
 * `ruralhub privacy rules` (and `privacy feeds`, the classification of every feed's fields): every rule's record of processing (issue 27) — the duty it serves, its legal basis,
 * the feeds and fields it reads, what its list discloses and to whom, how long its findings are kept, its grade
 * (computed: the highest of its inputs) and whether it evaluates children. Read from the declarations alone (no
 * config, no warehouse), so it answers the same wherever it runs; docs/privacy.md holds the same table
 * (test/unit/privacy.test.ts). `privacy assessment` writes the inputs of the 个人信息保护影响评估 from the same
 * records, the classification and the loaded config (src/reporting/assessment.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { configError } from '../../../core/errors.ts';
import { FEEDS } from '../../../pipelines/feeds/index.ts';
import { describeProcessing, type ProcessingView } from '../../../pipelines/rules/privacy.ts';
import type { Rule } from '../../../pipelines/rules/rule.ts';
import { DATA_GRADES, type DataGrade, type FeedDefinition } from '../../../schemas/feed.ts';
import { formatTable } from '../table.ts';

export const PRIVACY_FORMATS = ['table', 'json', 'md'] as const;
export type PrivacyFormat = (typeof PRIVACY_FORMATS)[number];

const HEADERS = [
  '规则',
  '法定职责',
  '合法性基础',
  '读取（数据 → 字段）',
  '披露字段',
  '接收部门',
  '保存期限',
  '分级',
  '未成年人',
] as const;

/** The rows of the table: one per rule, its cells as text (`sep` joins the feeds of the inputs cell). */
function cells(v: ProcessingView, sep: string): string[] {
  const inputs = v.inputs.map((i) => `${i.feed} → ${i.fields.map((f) => f.field).join(', ')}`).join(sep);
  return [
    `${v.id} ${v.name}`,
    v.duty,
    v.legalBasis,
    inputs,
    v.disclosed.join('、'),
    v.recipients.join('、'),
    v.retention,
    v.grade,
    v.minorsLabel,
  ];
}

/** A Markdown table cell: `|` escaped, so a value cannot split its row. */
const mdCell = (s: string) => s.replaceAll('|', '\\|');

/** The records of processing of `rules` in a format: the table docs/privacy.md holds is `md`'s. */
export function formatPrivacy(rules: readonly Rule[], format: PrivacyFormat): string {
  const views = rules.map(describeProcessing);
  if (format === 'json') return `${JSON.stringify(views, null, 2)}\n`;
  if (format === 'md') {
    const row = (r: readonly string[]) => `| ${r.map(mdCell).join(' | ')} |`;
    return `${[row(HEADERS), row(HEADERS.map(() => '---')), ...views.map((v) => row(cells(v, '<br>')))].join('\n')}\n`;
  }
  return `${formatTable(
    HEADERS,
    views.map((v) => cells(v, '; ')),
  )}\n`;
}

/** Each feed's fields by grade (the classification declared with each field), in a format. */
export function formatClassification(feeds: readonly FeedDefinition[], format: PrivacyFormat): string {
  const rows = feeds.map((f) => {
    const fields = Object.entries(f.fields);
    const grades = Object.fromEntries(
      DATA_GRADES.map((g) => [
        g,
        fields.filter(([, spec]) => spec.classification === g).map(([name]) => name),
      ]),
    ) as Record<DataGrade, string[]>;
    return { feed: f.id, title: f.title, department: f.department, grades };
  });
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  const headers = ['数据', '部门', ...DATA_GRADES];
  const line = (r: (typeof rows)[number]) => [
    `${r.feed} ${r.title}`,
    r.department,
    ...DATA_GRADES.map((g) => r.grades[g].join(', ')),
  ];
  if (format === 'md') {
    const row = (r: readonly string[]) => `| ${r.map(mdCell).join(' | ')} |`;
    return `${[row(headers), row(headers.map(() => '---')), ...rows.map((r) => row(line(r)))].join('\n')}\n`;
  }
  return `${formatTable(headers, rows.map(line))}\n`;
}

const ASSESSMENT_FORMATS: Readonly<Record<string, readonly ('md' | 'docx')[]>> = {
  md: ['md'],
  docx: ['docx'],
  both: ['md', 'docx'],
};

/** The format option of both subcommands, checked. */
function parsePrivacyFormat(given: string): PrivacyFormat {
  const format = PRIVACY_FORMATS.find((f) => f === given);
  if (!format) throw configError(`--format: expected one of ${PRIVACY_FORMATS.join(', ')}, got '${given}'`);
  return format;
}

export function registerPrivacy(program: Command): void {
  const privacy = program
    .command('privacy')
    .description('privacy by law: the record of processing of every rule (PIPL, Data Security Law)');
  privacy
    .command('rules')
    .description(
      'each rule: its statutory duty, legal basis, the feeds and fields it reads, what it discloses to whom, retention, grade, minors',
    )
    .option('--format <format>', 'table, json or md', 'table')
    .addHelpText(
      'after',
      '\nThe grade is computed: the highest classification of the fields a rule reads (就高从严).\n\nExample:\n  $ ruralhub privacy rules --format md > 处理活动记录.md',
    )
    .action(async (opts: { format: string }) => {
      // The catalog (every rule's SQL: kysely, zod) is loaded when a command reads it, not for the help texts.
      const format = parsePrivacyFormat(opts.format);
      const { RULES } = await import('../../../pipelines/rules/index.ts');
      process.stdout.write(formatPrivacy(Object.values(RULES), format));
    });
  privacy
    .command('feeds')
    .description("each feed's fields by classification: 一般, 个人信息, 敏感个人信息")
    .option('--format <format>', 'table, json or md', 'table')
    .addHelpText('after', '\nExample:\n  $ ruralhub privacy feeds --format json')
    .action((opts: { format: string }) => {
      process.stdout.write(formatClassification(Object.values(FEEDS), parsePrivacyFormat(opts.format)));
    });
  privacy
    .command('assessment')
    .description(
      'write the inputs of the 个人信息保护影响评估 (PIPL Art. 55–56) for the bureau to complete and sign: md and/or docx',
    )
    .option('--out <dir>', 'folder to write to (default: paths.output_dir)')
    .option('--format <format>', 'md, docx or both', 'both')
    .addHelpText(
      'after',
      `
Writes <county>-个人信息保护影响评估.md and .docx: 一、处理概况, 二、处理活动清单 (each enabled rule), 三、数据分级,
四、安全与保护措施 (from the config's values), 五、风险评估与结论 (blank, for the bureau) and the signatures.
Read from the declarations and the config only: no secret, no connection string, only environment variable names.

Example:
  $ ruralhub privacy assessment --out ./评估 --format docx`,
    )
    .action(async (opts: { out?: string; format: string }, cmd: Command) => {
      const formats = Object.hasOwn(ASSESSMENT_FORMATS, opts.format)
        ? ASSESSMENT_FORMATS[opts.format]
        : undefined;
      if (!formats)
        throw configError(
          `--format: expected one of ${Object.keys(ASSESSMENT_FORMATS).join(', ')}, got '${opts.format}'`,
        );
      const [
        { assessmentDocument, assessmentFileBase, assessmentMarkdown, writeAssessmentDocx },
        { makeContext },
        { RULES },
      ] = await Promise.all([
        import('../../reporting/assessment.ts'),
        import('../context.ts'),
        import('../../../pipelines/rules/index.ts'),
      ]);
      const ctx = makeContext(cmd.optsWithGlobals());
      const dir = resolve(opts.out ?? ctx.config.paths.output_dir);
      await mkdir(dir, { recursive: true });
      const doc = assessmentDocument({
        config: ctx.config,
        rules: RULES,
        feeds: Object.values(FEEDS),
        generatedAt: new Date(),
      });
      const base = join(dir, assessmentFileBase(ctx.config));
      if (formats.includes('md')) {
        await writeFile(`${base}.md`, assessmentMarkdown(doc));
        ctx.out.write(`${base}.md\n`);
      }
      if (formats.includes('docx')) {
        await writeAssessmentDocx(`${base}.docx`, doc);
        ctx.out.write(`${base}.docx\n`);
      }
    });
}
