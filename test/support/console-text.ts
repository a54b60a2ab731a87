/**
 * What a console page says to its reader, and the machine words it must not say: shared by the browser tests
 * that check the console speaks Chinese (console-labels, console-dashboard).
 */
import type { Page } from 'playwright-core';
import { FEED_IDS, FEEDS } from '../../pipelines/feeds/index.ts';
import { LABELLED_VOCABULARIES } from '../../schemas/labels.ts';

/**
 * The machine words no reader should meet: every code of the labelled vocabularies, the feed ids, the feeds'
 * field names and their enum codes, and the history tables' internal columns. Codes of one or two characters
 * (M, F, A–D, 1–4, ok) are left to exact checks: as whole words they are also rule ids' and grades'
 * neighbours (R01, A级) and would flag Chinese text.
 */
const FORBIDDEN = [
  ...new Set(
    [
      ...Object.values(LABELLED_VOCABULARIES).flat(),
      ...FEED_IDS,
      ...FEED_IDS.flatMap((f) =>
        Object.entries(FEEDS[f].fields).flatMap(([field, spec]) => [
          field,
          ...(spec.type.kind === 'enum' ? Object.keys(spec.type.values) : []),
        ]),
      ),
      'raw_hash',
      'row_hash',
      'version_id',
      'valid_from',
      'valid_to',
      'run_id',
      'Buffer',
    ].filter((w) => w.length > 2),
  ),
];
export const ENGLISH_WORD = new RegExp(`(?<![A-Za-z0-9_])(${FORBIDDEN.join('|')})(?![A-Za-z0-9_])`, 'g');

/**
 * The page's visible text, without file names (a department's own words: roster-防返贫监测对象.csv), which are
 * taken out of the page: call it last on a page, or navigate again.
 */
export const visibleText = (page: Page) =>
  page.$eval('body', (body) => {
    for (const f of body.querySelectorAll('.file')) f.remove();
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text, cells apart; textContent would glue two cells' words into one no word boundary finds.
    return (body as unknown as { innerText: string }).innerText;
  });

/** The machine words in the page's visible text, each once. */
export async function englishIn(page: Page): Promise<string[]> {
  return [...new Set([...(await visibleText(page)).matchAll(ENGLISH_WORD)].map((m) => m[1]!))];
}
