import type { FeedDefinition } from '../../schemas/feed.ts';
import type { FeedId } from '../../schemas/vocab.ts';
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

/**
 * The reference pipelines of DOMAIN §4, by feed id, with their literal field names (for types that need them, such
 * as the test holding src/warehouse/schema.ts to the declarations); `satisfies` keeps it exactly the feed ids.
 */
export const DECLARED_FEEDS = {
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
} satisfies Record<FeedId, FeedDefinition>;

/** The reference pipelines of DOMAIN §4, by feed id. */
export const FEEDS: Record<FeedId, FeedDefinition> = DECLARED_FEEDS;
