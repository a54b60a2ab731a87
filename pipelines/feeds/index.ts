import type { FeedDefinition } from '../../schemas/feed.ts';
import { assistance } from './assistance.ts';
import { deaths } from './deaths.ts';
import { disability } from './disability.ts';
import { disasters } from './disasters.ts';
import { employment } from './employment.ts';
import { homeSchooling } from './home-schooling.ts';
import { housing } from './housing.ts';
import { insurance } from './insurance.ts';
import { roster } from './roster.ts';
import { settlements } from './settlements.ts';
import { studentRoll } from './student-roll.ts';
import { water } from './water.ts';

/** A registry of feeds keyed by their ids: the type refuses an entry whose key is not its feed's id. */
function registry<const R extends { readonly [K in keyof R]: FeedDefinition<K & string> }>(feeds: R): R {
  return feeds;
}

/**
 * The project's feeds, the reference pipelines of DOMAIN §4, by id: the one list of them. A new feed is its
 * declaration file in this folder and its entry here; `migrate` then creates its table from the declaration
 * (src/warehouse/feed-table.ts). Each entry keeps its literal field names, from which the warehouse's table types
 * are derived (src/warehouse/schema.ts).
 */
export const DECLARED_FEEDS = registry({
  roster,
  student_roll: studentRoll,
  home_schooling: homeSchooling,
  insurance,
  settlements,
  assistance,
  housing,
  water,
  employment,
  disability,
  deaths,
  disasters,
});

/** The id of one of the project's feeds. CLI arguments, config keys, table names and bench arguments use these. */
export type FeedId = keyof typeof DECLARED_FEEDS;

/** The project's feeds, by id, as any code reading a feed's declaration sees them. */
export const FEEDS: { readonly [K in FeedId]: FeedDefinition<K> } = DECLARED_FEEDS;

const ids = Object.values(FEEDS).map((f) => f.id);
const nonEmpty = <T>(xs: readonly T[]): xs is readonly [T, ...T[]] => xs.length > 0;
if (!nonEmpty(ids)) throw new Error('the feed registry is empty');

/** The project's feed ids, in the registry's order (DOMAIN §4's); a non-empty list, as `z.enum` takes it. */
export const FEED_IDS: readonly [FeedId, ...FeedId[]] = ids;

/** Whether `id` names one of the project's feeds (a CLI argument, a config key). */
export const isFeedId = (id: string): id is FeedId => Object.hasOwn(FEEDS, id);
