/**
 * docs/feeds.md is what test/support/feeds-doc.ts renders from the feeds' one definition (pipelines/feeds/): every
 * header spelling and every closed vocabulary's spellings, as the loader accepts them. A feed changed without the
 * page fails here; `npx tsx test/support/feeds-doc.ts > docs/feeds.md` writes it again.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FEED_IDS, FEEDS } from '../../pipelines/feeds/index.ts';
import { feedsDoc } from '../support/feeds-doc.ts';

const page = readFileSync(resolve(import.meta.dirname, '../../docs/feeds.md'), 'utf8');
const literal = (s: string) => s.replace(/([*|\\_])/g, '\\$1');

describe('docs/feeds.md', () => {
  it('is the page rendered from the feed declarations', () => {
    expect(page).toBe(feedsDoc());
  });

  it.each([...FEED_IDS])('%s: every header spelling and every value spelling is on its section', (id) => {
    const start = page.indexOf(`## \`${id}\` `);
    expect(start).toBeGreaterThan(0);
    const next = page.indexOf('\n## ', start + 1);
    const section = page.slice(start, next < 0 ? undefined : next);
    for (const [field, spec] of Object.entries(FEEDS[id].fields)) {
      const row = section.split('\n').find((l) => l.startsWith(`| \`${field}\` `));
      expect(row, `${id}.${field}`).toContain(spec.aliases.map(literal).join(', '));
      if (spec.type.kind !== 'enum') continue;
      for (const [value, spellings] of Object.entries(spec.type.values)) {
        const valueRow = section
          .slice(section.indexOf(`(\`${field}\`): the values`))
          .split('\n')
          .find((l) => l.startsWith(`| \`${value}\` `));
        expect(valueRow, `${id}.${field}.${value}`).toContain(spellings.map(literal).join(', '));
      }
    }
  });
});
