/**
 * The feed fields a rule's compiled queries read, found in their SQL text: what its record of processing
 * (`processing.reads`) must declare. A column is read when it is written `alias.column` (quoted or not) and the
 * alias names a feed table somewhere in the query (`FROM roster p`, `JOIN "disability" AS "d"`); an alias that
 * names several feeds in different subqueries (`d`: deaths, disability) counts the column for each of them that
 * declares it. Columns of a feed read under its own name without an alias (R13's UNIONs) are not seen: R13's
 * record is derived from the same lists its query is built from.
 */
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  sql,
} from 'kysely';
import type { Rule } from '../../pipelines/rules/rule.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import type { Database } from '../../src/warehouse/schema.ts';

/** A kysely that compiles queries and runs none: a rule's SQL, read as text. */
export const db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new PostgresIntrospector(k),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

/** The SQL of a rule's population and findings queries, bound with its default parameters. */
export function ruleSql(rule: Rule, asOf = '2026-03-15'): string {
  const bound = rule.bind({});
  if (!bound.ok) throw new Error(`${rule.id}: its default parameters do not parse`);
  return ['population', 'findings']
    .map((q) => sql`${bound.rule[q as 'population' | 'findings'](db, asOf)}`.compile(db).sql)
    .join('\n');
}

/** feed id → the fields of it the text reads through an alias. */
export function fieldsRead(text: string, feeds: readonly FeedDefinition[]): Map<string, Set<string>> {
  const byId = new Map(feeds.map((f) => [f.id, f]));
  const aliases = new Map<string, Set<string>>();
  for (const m of text.matchAll(/\b(?:from|join)\s+"?(\w+)"?\s+(?:as\s+)?"?(\w+)"?/gi)) {
    if (!byId.has(m[1]!)) continue;
    const set = aliases.get(m[2]!) ?? new Set<string>();
    set.add(m[1]!);
    aliases.set(m[2]!, set);
  }
  const read = new Map<string, Set<string>>();
  for (const m of text.matchAll(/(?<![\w."])"?([a-z_]\w*)"?\."?([a-z_]\w*)"?/g)) {
    for (const feed of aliases.get(m[1]!) ?? []) {
      if (!Object.hasOwn(byId.get(feed)!.fields, m[2]!)) continue;
      const set = read.get(feed) ?? new Set<string>();
      set.add(m[2]!);
      read.set(feed, set);
    }
  }
  return read;
}
