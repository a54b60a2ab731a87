/**
 * Privacy by law, built in (issue 27): every rule carries its record of processing and every feed field its
 * classification; the grade is computed from the fields read; a rule without a record is refused in one line;
 * the fields a record declares are the fields its queries read; docs/privacy.md is what `privacy` prints.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { disability } from '../../pipelines/feeds/disability.ts';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import { roster } from '../../pipelines/feeds/roster.ts';
import { settlements } from '../../pipelines/feeds/settlements.ts';
import { RULES, ruleRegistry } from '../../pipelines/rules/index.ts';
import { describeProcessing, STATUTORY_DUTY_BASIS } from '../../pipelines/rules/privacy.ts';
import { defineRule, type Rule, read } from '../../pipelines/rules/rule.ts';
import { defineFeed } from '../../schemas/feed.ts';
import { formatClassification, formatPrivacy } from '../../src/cli/commands/privacy.ts';
import { runCli } from '../support/cli.ts';
import { temporaryAid } from '../support/extension-feed.ts';
import { x01 } from '../support/extension-rule.ts';
import { fieldsRead, ruleSql } from '../support/rule-reads.ts';
import { t01 } from '../support/throwaway-rule.ts';

const DOC = readFileSync(join(import.meta.dirname, '../../docs/privacy.md'), 'utf8');

/** The generated table under `<!-- generated: <command> -->` in docs/privacy.md. */
function generated(command: string): string {
  const start = DOC.indexOf(`<!-- generated: ${command} -->\n\n`);
  expect(start, command).toBeGreaterThanOrEqual(0);
  const from = start + `<!-- generated: ${command} -->\n\n`.length;
  return DOC.slice(from, DOC.indexOf('<!-- end generated -->', from));
}

/**
 * A Markdown table's cells, row by row, trimmed, without the separator row: the doc is formatted by biome (columns
 * padded), the command prints it unpadded, and the table is the same when its cells are.
 */
const tableCells = (md: string): string[][] =>
  md
    .trim()
    .split('\n')
    .map((line) =>
      line
        .replace(/^\|/, '')
        .replace(/\|$/, '')
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    )
    .filter((cells) => !cells.every((c) => /^-+$/.test(c)));

interface JsonView {
  id: string;
  duty: string;
  legalBasis: string;
  inputs: { feed: string; fields: { field: string; grade: string }[] }[];
  disclosed: string[];
  recipients: string[];
  retention: string;
  retentionYears: number;
  grade: string;
  minors: string;
  minorsLabel: string;
}

describe('ruralhub privacy rules', () => {
  it('lists all 13 rules as JSON with every attribute non-empty and the grade computed', async () => {
    const r = await runCli(['privacy', 'rules', '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const views = JSON.parse(r.stdout) as JsonView[];
    expect(views.map((v) => v.id)).toEqual(Object.keys(RULES));
    for (const v of views) {
      for (const [key, value] of Object.entries(v)) {
        expect(
          Array.isArray(value) ? value.length : String(value).trim().length,
          `${v.id}.${key}`,
        ).toBeGreaterThan(0);
      }
      for (const i of v.inputs) expect(i.fields.length, `${v.id} ${i.feed}`).toBeGreaterThan(0);
    }
    const r07 = views.find((v) => v.id === 'R07')!;
    // R07 reads the disability certificates (category, status) of compulsory-age children.
    expect(r07.inputs.find((i) => i.feed === 'disability')).toEqual({
      feed: 'disability',
      title: '持证残疾人名册',
      department: '残联',
      fields: [
        { field: 'id_number', label: '残疾人证号', grade: '敏感个人信息' },
        { field: 'category', label: '残疾类别', grade: '敏感个人信息' },
        { field: 'cert_status', label: '证件状态', grade: '敏感个人信息' },
      ],
    });
    expect(r07).toMatchObject({
      grade: '敏感个人信息',
      minors: 'targeted',
      minorsLabel: '是（以未成年人为对象）',
      recipients: ['教育局'],
      retention: '结案后保存3年',
      retentionYears: 3,
      legalBasis: STATUTORY_DUTY_BASIS,
    });
    expect(r07.inputs.map((i) => i.feed)).toEqual([
      'roster',
      'student_roll',
      'home_schooling',
      'disability',
      'deaths',
    ]);
    expect(views.find((v) => v.id === 'R01')).toMatchObject({ minors: 'targeted', recipients: ['教育局'] });
    expect(views.find((v) => v.id === 'R10')).toMatchObject({
      minors: 'included',
      recipients: ['民政局', '医保局', '乡村振兴局'],
      disclosed: ['姓名', '身份证号', '死亡日期', '仍在享受'],
    });
    expect(views.filter((v) => v.minors === 'targeted').map((v) => v.id)).toEqual(['R01', 'R07']);
  });

  it('computes the grade as the highest of the fields read, not as declared', () => {
    // T01 reads the roster's household fields: the ID number and the monitoring status make it sensitive.
    expect(describeProcessing(t01).grade).toBe('敏感个人信息');
    const plain = defineFeed({
      id: 'test_public_notice',
      title: '公示名单',
      department: '乡村振兴局',
      mode: 'snapshot',
      fields: {
        village: { type: { kind: 'text' }, aliases: ['村'], classification: '一般' },
        name: { type: { kind: 'name' }, aliases: ['姓名'], classification: '个人信息' },
      },
      key: ['village', 'name'],
      order: [],
    });
    const rule = (fields: ('village' | 'name')[]) =>
      defineRule({
        ...t01,
        id: 'T09',
        requires: [plain.id],
        processing: { ...t01.processing, reads: [read(plain, fields)] },
        params: t01.params,
        population: () => {
          throw new Error('not run');
        },
        findings: () => {
          throw new Error('not run');
        },
      });
    expect(describeProcessing(rule(['village'])).grade).toBe('一般');
    expect(describeProcessing(rule(['village', 'name'])).grade).toBe('个人信息');
  });

  it('is the table docs/privacy.md holds, for rules and for feed fields', () => {
    const rules = tableCells(generated('ruralhub privacy rules --format md'));
    expect(rules).toEqual(tableCells(formatPrivacy(Object.values(RULES), 'md')));
    expect(rules).toHaveLength(1 + 13);
    expect(rules[7]![0]).toBe('R07 适龄残疾儿童未安置');
    const feeds = tableCells(generated('ruralhub privacy feeds --format md'));
    expect(feeds).toEqual(tableCells(formatClassification(Object.values(FEEDS), 'md')));
    expect(feeds[1]!.slice(0, 3)).toEqual(['roster 防返贫监测对象名册', '乡村振兴局', 'county']);
  });

  it('prints md as the function the doc is checked against does', async () => {
    const r = await runCli(['privacy', 'rules', '--format', 'md']);
    expect(r.stdout).toBe(formatPrivacy(Object.values(RULES), 'md'));
    const bad = await runCli(['privacy', 'rules', '--format', 'xml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain("--format: expected one of table, json, md, got 'xml'");
  });
});

describe('a record of processing is part of a rule', () => {
  /** A rule object as plain JavaScript would hand it over: t01 with its record taken away or changed. */
  const without = (change: Record<string, unknown>): Rule => ({ ...t01, id: 'T07', ...change }) as Rule;

  it('refuses a registry holding a rule without one, in one line naming the rule', () => {
    const refused = (rules: Record<string, Rule>) => {
      try {
        ruleRegistry(rules);
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    const none = refused({ ...RULES, T07: without({ processing: undefined }) });
    expect(none).toBe(
      'rule T07: no record of processing; every rule declares its record of processing (duty, legalBasis, reads, retentionYears, minors: see docs/privacy.md)',
    );
    expect(none).not.toContain('\n');
    expect(refused({ T07: without({ processing: { ...t01.processing, duty: ' ' } }) })).toMatch(
      /^rule T07: incomplete record of processing \(processing\.duty: .+\); every rule declares/,
    );
    expect(refused({ T07: without({ processing: { ...t01.processing, reads: [] } }) })).toMatch(
      /^rule T07: incomplete record of processing \(processing\.reads: /,
    );
    // The feeds it reads are those it requires and uses, each once.
    expect(refused({ T07: without({ requires: ['roster', 'deaths'] }) })).toMatch(
      /^rule T07: processing\.reads must name each feed of requires and uses once; missing deaths;/,
    );
    expect(
      refused({
        T07: without({
          processing: { ...t01.processing, reads: [{ feed: FEEDS.roster, fields: ['nickname'] }] },
        }),
      }),
    ).toMatch(/^rule T07: processing\.reads: roster declares no field nickname;/);
    expect(
      refused({
        T07: without({
          requires: ['roster', 'student_roll'],
          processing: {
            ...t01.processing,
            minors: 'none',
            reads: [...t01.processing.reads, read(FEEDS.student_roll, ['status'])],
          },
        }),
      }),
    ).toMatch(/^rule T07: processing\.minors is none, but it reads student_roll, a feed about children;/);
    expect(refused({ ...RULES, T01: t01, X01: x01 })).toBe('accepted');
  });

  it('does not compile without one, nor with a feed or field it does not read', () => {
    const { processing: _omitted, ...rest } = t01;
    const def = {
      ...rest,
      params: t01.params,
      population: () => null as never,
      findings: () => null as never,
    };
    // @ts-expect-error a rule declares its record of processing
    const bare = () => defineRule(def);
    expect(bare).toThrow('rule T01: no record of processing;');
    // @ts-expect-error a field the feed does not declare
    read(roster, ['nickname']);
    const processing = { ...t01.processing, reads: [read(FEEDS.deaths, ['died_on'])] };
    // @ts-expect-error a feed the rule neither requires nor uses
    const stray = () => defineRule({ ...def, processing });
    expect(stray).toThrow(/missing roster; not required or used, or twice: deaths/);
  });
});

describe('the classification of feed fields', () => {
  it('is declared for every field of every feed, the extension’s too', () => {
    for (const feed of [...Object.values(FEEDS), temporaryAid]) {
      for (const [name, spec] of Object.entries(feed.fields)) {
        expect(['一般', '个人信息', '敏感个人信息'], `${feed.id}.${name}`).toContain(spec.classification);
      }
    }
    expect(disability.fields.category.classification).toBe('敏感个人信息');
    expect(settlements.fields.out_of_pocket.classification).toBe('敏感个人信息');
    expect(roster.fields.id_number.classification).toBe('敏感个人信息');
    expect(roster.fields.name.classification).toBe('个人信息');
    expect(roster.fields.county.classification).toBe('一般');
    // Every field of a feed about children is sensitive, its name too.
    expect(new Set(Object.values(FEEDS.student_roll.fields).map((f) => f.classification))).toEqual(
      new Set(['敏感个人信息']),
    );
  });

  it('is refused when missing, in a feed given as plain JavaScript', () => {
    const fields = { name: { type: { kind: 'name' }, aliases: ['姓名'] } };
    expect(() =>
      defineFeed({
        ...temporaryAid,
        fields: fields as never,
        key: ['name'],
        order: [],
        identity: undefined,
        indexes: undefined,
      }),
    ).toThrow(
      'feed test_temporary_aid: field name has no classification (one of 一般, 个人信息, 敏感个人信息), got undefined',
    );
  });
});

describe('each rule declares the fields its queries read', () => {
  const feeds = [...Object.values(FEEDS), temporaryAid];
  const declared = (rule: Rule) =>
    Object.fromEntries(rule.processing.reads.map((r) => [r.feed.id, [...r.fields].sort()]));

  for (const rule of [...Object.values(RULES).filter((r) => r.id !== 'R13'), t01, x01] as Rule[]) {
    it(`${rule.id}: the fields its SQL reads through a feed's alias are the fields it declares`, () => {
      const seen = Object.fromEntries(
        [...fieldsRead(ruleSql(rule), feeds)].map(([f, s]) => [f, [...s].sort()]),
      );
      // Only feeds read through an alias are seen (every rule here reads each feed so, at least once).
      const shown = Object.fromEntries(Object.entries(declared(rule)).filter(([f]) => f in seen));
      expect(seen).toEqual(shown);
    });
  }

  it('R13: every feed, by its person columns and the sex and birth date it states', () => {
    const r13 = declared(RULES.R13);
    expect(Object.keys(r13)).toEqual(Object.keys(FEEDS));
    expect(r13.roster).toEqual(['household_id', 'id_number', 'name', 'sex', 'township', 'village']);
    expect(r13.student_roll).toEqual(['birth_date', 'id_number', 'name', 'sex']);
    expect(r13.housing).toEqual(['birth_date', 'head_id_number', 'head_name']);
    const sql = ruleSql(RULES.R13);
    for (const fields of Object.values(r13))
      for (const f of fields) expect(sql).toMatch(new RegExp(`\\b${f}\\b`));
  });
});
