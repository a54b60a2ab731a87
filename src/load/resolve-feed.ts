import { FEEDS } from '../../pipelines/feeds/index.ts';
import type { FeedDefinition } from '../../schemas/feed.ts';
import { FEED_IDS, type FeedId } from '../../schemas/vocab.ts';
import { configError } from '../errors.ts';

/** The reference pipeline of a feed id, or a config error that lists the valid ids. */
export function resolveFeed(id: string): FeedDefinition {
  if (!(FEED_IDS as readonly string[]).includes(id)) {
    throw configError(`unknown feed '${id}'; feeds are: ${FEED_IDS.join(', ')}`);
  }
  const feed = FEEDS[id as FeedId];
  if (!feed) {
    throw configError(`feed '${id}' is not implemented yet; implemented: ${Object.keys(FEEDS).join(', ')}`);
  }
  return feed;
}
