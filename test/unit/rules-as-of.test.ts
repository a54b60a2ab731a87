/**
 * Every rule reads the feed tables through one as-of helper (pipelines/rules/as-of.ts, issue 21): each feed table
 * a rule's compiled queries read (FROM/JOIN of a feed id, by its alias, or its name when it has none) carries the
 * helper's predicate, and no rule file or shared piece writes a validity predicate of its own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { FEED_IDS } from '../../pipelines/feeds/index.ts';
import { validAt } from '../../pipelines/rules/as-of.ts';
import { RULES } from '../../pipelines/rules/index.ts';
import { db } from '../support/rule-reads.ts';

const RULES_DIR = join(import.meta.dirname, '../../pipelines/rules');
const FEED_SET = new Set<string>(FEED_IDS);
/** Words that can follow a table name where an alias would be: the table is then read under its own name. */
const NOT_ALIAS = new Set([
  'where',
  'on',
  'join',
  'left',
  'right',
  'inner',
  'full',
  'cross',
  'union',
  'group',
]);

/** Feed tables read by a compiled query, counted by the alias they are read under. */
function feedReads(text: string): Map<string, number> {
  const reads = new Map<string, number>();
  for (const m of text.matchAll(/\b(?:from|join)\s+"?(\w+)"?(?:\s+(?:as\s+)?"?(\w+)"?)?/gi)) {
    const table = m[1]!;
    if (!FEED_SET.has(table)) continue;
    const alias = m[2] && !NOT_ALIAS.has(m[2].toLowerCase()) ? m[2] : table;
    reads.set(alias, (reads.get(alias) ?? 0) + 1);
  }
  return reads;
}

/** The helper's predicates in a compiled query, counted by alias (kysely writes its own `is null` lower case). */
function helperPredicates(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const m of text.matchAll(
    /\("(\w+)"\."data_from" <= \$(\d+)::date AND \("\1"\."data_to" IS NULL OR "\1"\."data_to" > \$\d+::date\)\)/g,
  ))
    found.set(m[1]!, (found.get(m[1]!) ?? 0) + 1);
  return found;
}

describe('rules read feed tables as of the reference date through one helper', () => {
  it('the helper emits a predicate the guard recognizes', () => {
    const compiled = sql`${validAt('p', '2026-03-15')}`.compile(db);
    expect(compiled.sql).toBe(
      '("p"."data_from" <= $1::date AND ("p"."data_to" IS NULL OR "p"."data_to" > $2::date))',
    );
    expect(compiled.parameters).toEqual(['2026-03-15', '2026-03-15']);
  });

  for (const [id, rule] of Object.entries(RULES)) {
    it(`${id}: every feed table read carries the helper's predicate, and no other validity predicate`, () => {
      const bound = rule.bind({});
      if (!bound.ok) throw new Error(`${id}: its default parameters do not parse`);
      for (const query of ['population', 'findings'] as const) {
        const text = sql`${bound.rule[query](db, '2026-03-15')}`.compile(db).sql;
        const reads = feedReads(text);
        expect(reads.size, `${id}.${query} reads no feed table`).toBeGreaterThan(0);
        expect(
          helperPredicates(text),
          `${id}.${query}: feed reads by alias vs the helper's predicates`,
        ).toEqual(reads);
        // Each helper predicate names data_from once and data_to twice; any other mention is a rule's own.
        const all =
          (text.match(/valid_to|valid_from/g)?.length ?? 0) + (text.match(/data_from/g)?.length ?? 0);
        const helper = [...helperPredicates(text).values()].reduce((a, b) => a + b, 0);
        expect(all, `${id}.${query} mentions valid_to outside the helper's predicate`).toBe(helper);
      }
    });
  }

  it('no rule file or shared piece mentions a validity column outside the helper', () => {
    const offenders = readdirSync(RULES_DIR)
      .filter((f) => f.endsWith('.ts') && f !== 'as-of.ts')
      .filter((f) => /valid_to|valid_from|data_from|data_to/.test(readFileSync(join(RULES_DIR, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
