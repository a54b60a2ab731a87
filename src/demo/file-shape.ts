/** What a written demo file holds, as the demo's tests and summaries count it. */
import type { FeedId } from '../../pipelines/feeds/index.ts';

/** Lines below a table that are no records, by the reason a reader skips them (connectors/row-shape.ts). */
export interface Skipped {
  totals: number;
  blank: number;
  footer: number;
}

/**
 * What a written file holds: its records (rows a reader reads, quarantined or loaded), and the lines below the
 * table a reader must skip and count. Title lines above the header are neither.
 */
export interface FileShape {
  records: number;
  skipped: Skipped;
}

/** Every feed's file and its shape. */
export type WrittenFiles = Partial<Record<FeedId, { path: string } & FileShape>>;
