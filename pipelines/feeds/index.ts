import type { FeedDefinition } from '../../schemas/feed.ts';
import type { FeedId } from '../../schemas/vocab.ts';
import { insurance } from './insurance.ts';
import { roster } from './roster.ts';
import { studentRoll } from './student-roll.ts';

/** The reference pipelines by feed id. A feed not listed here is not implemented yet. */
export const FEEDS: Partial<Record<FeedId, FeedDefinition>> = {
  roster,
  student_roll: studentRoll,
  insurance,
};
