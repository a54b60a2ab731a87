import { vocabularyKey } from '../../core/chars.ts';
import { configError } from '../../core/errors.ts';
import type { FeedConfig } from '../../schemas/config.ts';
import type { FeedDefinition, FieldSpec } from '../../schemas/feed.ts';
import { FEED_IDS, FEEDS, type FeedId, isFeedId } from './index.ts';

/** The reference pipeline of a feed id, or a config error that lists the valid ids. */
export function resolveFeed(id: string): FeedDefinition<FeedId> {
  if (!isFeedId(id)) throw configError(`unknown feed '${id}'; feeds are: ${FEED_IDS.join(', ')}`);
  return FEEDS[id];
}

type ValueAliases = FeedConfig['value_aliases'];

/**
 * What is wrong with a county's extra value spellings for a feed, each message with its config key path:
 * a field that is not a closed vocabulary of the feed, a canonical value it does not have, or a spelling that
 * already means another value.
 */
export function valueAliasProblems(feed: FeedDefinition, extra: ValueAliases): string[] {
  const out: string[] = [];
  for (const [field, byValue] of Object.entries(extra)) {
    const at = `feeds.${feed.id}.value_aliases.${field}`;
    const t = feed.fields[field]?.type;
    if (t?.kind !== 'enum') {
      const enums = Object.entries(feed.fields).filter(([, f]) => f.type.kind === 'enum');
      out.push(
        `${at}: not a closed-vocabulary field of ${feed.id} (those are: ${enums.map(([f]) => f).join(', ')})`,
      );
      continue;
    }
    // Spellings are compared the way values are looked up.
    const owner = new Map(
      Object.entries(t.values).flatMap(([canon, spellings]) =>
        spellings.map((v) => [vocabularyKey(v), canon] as const),
      ),
    );
    for (const [canon, spellings] of Object.entries(byValue)) {
      if (!(canon in t.values)) {
        out.push(`${at}.${canon}: not a value of ${field} (values: ${Object.keys(t.values).join(', ')})`);
        continue;
      }
      for (const v of spellings) {
        const other = owner.get(vocabularyKey(v));
        // 终止 made to mean active would count a terminated enrolment as insured: refused, not re-read.
        if (other !== undefined && other !== canon) {
          out.push(`${at}.${canon}: '${v}' already means ${other}`);
        }
      }
    }
  }
  return out;
}

/**
 * The feed as this county reads it: the reference declaration with the county's extra value spellings
 * (feeds.<feed>.value_aliases) added to its closed vocabularies. A new spelling is configuration, not code.
 */
export function countyFeed<Id extends string>(
  feed: FeedDefinition<Id>,
  feedConfig?: Partial<FeedConfig>,
): FeedDefinition<Id> {
  const extra = feedConfig?.value_aliases ?? {};
  if (Object.keys(extra).length === 0) return feed;
  const problems = valueAliasProblems(feed, extra);
  if (problems.length) throw configError(problems.join('; '));
  const fields: Record<string, FieldSpec> = { ...feed.fields };
  for (const [field, byValue] of Object.entries(extra)) {
    const spec = fields[field]!;
    if (spec.type.kind !== 'enum') continue;
    const values: Record<string, readonly string[]> = { ...spec.type.values };
    for (const [canon, spellings] of Object.entries(byValue))
      values[canon] = [...(values[canon] ?? []), ...spellings];
    fields[field] = { ...spec, type: { kind: 'enum', values } };
  }
  return { ...feed, fields };
}
