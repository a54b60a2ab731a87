/**
 * The config names feeds and rules by the ids of their registries (pipelines/feeds, pipelines/rules), checked
 * by src/config/load-config.ts, and a feed's source by its kind (schemas/sources.ts).
 */
import { describe, expect, it } from 'vitest';
import { FEEDS } from '../../pipelines/feeds/index.ts';
import { RULES } from '../../pipelines/rules/index.ts';
import { parseConfig } from '../../src/config/load-config.ts';

const COUNTY = 'county: { name: 示范县, code: "520102" }';
const parse = (yaml: string) => parseConfig(`${COUNTY}\n${yaml}`, 'county.yaml');
const refusal = (yaml: string) => {
  try {
    parse(yaml);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the config was taken');
};
const oneOf = (ids: string[]) => `Invalid option: expected one of ${ids.map((i) => `"${i}"`).join('|')}`;
const FEED_IDS = oneOf(Object.keys(FEEDS));
const RULE_IDS = oneOf(Object.keys(RULES));

describe('feed and rule ids in the config', () => {
  it("takes every id of the feeds' and the rules' registries", () => {
    const feeds = Object.keys(FEEDS);
    const rules = Object.keys(RULES);
    const c = parse(
      `feeds: { ${feeds.map((f) => `${f}: { max_shrink: 0.5 }`).join(', ')} }\n` +
        `rules: { ${rules.map((r) => `${r}: { enabled: false }`).join(', ')} }\n` +
        `matching: { feed_max_age_days: { ${feeds.map((f) => `${f}: 400`).join(', ')} } }\n` +
        `scheduler: { jobs: { suite: { kind: match, cron: '0 3 * * *', rules: [${rules}], needs: [${feeds}] } } }`,
    );
    expect(Object.keys(c.feeds)).toEqual(feeds);
    expect(Object.keys(c.rules)).toEqual(rules);
    expect(c.scheduler.jobs.suite).toMatchObject({ rules, needs: feeds });
  });

  it('refuses an unknown feed or rule in one line naming each key and the ids there are', () => {
    const message = refusal(
      'feeds: { schools: {} }\nrules: { R99: {} }\n' +
        'scheduler: { jobs: { nightly: { kind: import, feed: school, cron: "0 2 * * *" } } }',
    );
    expect(message).toBe(
      `county.yaml: feeds.schools: ${FEED_IDS}; rules.R99: ${RULE_IDS}; scheduler.jobs.nightly.feed: ${FEED_IDS}`,
    );
    expect(message).not.toContain('\n');
  });

  it('names the drop folder, feed age and match job that name an unknown id, beside the other mistakes', () => {
    expect(
      refusal(
        'drop: { root: /srv/drop, folders: { school: 教育局 } }\n' +
          'matching: { feed_max_age_days: { school: 400 } }\n' +
          'scheduler: { jobs: { suite: { kind: match, cron: "0 3 * * *", rules: [R1], needs: [roster, school] } } }\n' +
          'indicators: { water_safety: 1.5 }',
      ),
    ).toBe(
      `county.yaml: drop.folders.school: ${FEED_IDS}; indicators.water_safety: Too big: expected number to be <=1; ` +
        `scheduler.jobs.suite.rules.0: ${RULE_IDS}; scheduler.jobs.suite.needs.1: ${FEED_IDS}; ` +
        `matching.feed_max_age_days.school: ${FEED_IDS}`,
    );
  });
});

describe("a feed's source in the config", () => {
  const sql = 'dialect: mysql, url_env: GA_DB_URL, table: death_reg, cursor: updated_at, key: [id]';
  const http = 'url: "https://api.example.cn/deaths", paging: { kind: cursor }';

  it.each([
    ['a database named by its kind', `{ kind: sql, ${sql} }`, 'sql'],
    ['a database written before kind, told by its dialect', `{ ${sql} }`, 'sql'],
    ['an API named by its kind', `{ kind: http, ${http} }`, 'http'],
    ['an API written before kind, told by its url', `{ ${http} }`, 'http'],
  ])('loads %s, carrying its kind', (_, source, kind) => {
    expect(parse(`feeds: { deaths: { source: ${source} } }`).feeds.deaths?.source?.kind).toBe(kind);
  });

  it('keeps the values of a source written before kind', () => {
    expect(parse(`feeds: { deaths: { source: { ${sql} } } }`).feeds.deaths?.source).toEqual({
      kind: 'sql',
      dialect: 'mysql',
      url_env: 'GA_DB_URL',
      table: 'death_reg',
      cursor: 'updated_at',
      key: ['id'],
      page_size: 5000,
    });
  });

  it('names the missing keys of the kind it is, or the kinds there are when it shows none', () => {
    expect(refusal('feeds: { deaths: { source: { kind: sql, table: death_reg } } }')).toBe(
      'county.yaml: feeds.deaths.source.dialect: Invalid option: expected one of "mysql"|"postgres"; ' +
        'feeds.deaths.source.url_env: Invalid input: expected string, received undefined; ' +
        'feeds.deaths.source.key: Invalid input: expected array, received undefined',
    );
    expect(refusal('feeds: { deaths: { source: { table: death_reg } } }')).toBe(
      "county.yaml: feeds.deaths.source.kind: Invalid discriminator value. Expected 'sql' | 'http'",
    );
    expect(refusal(`feeds: { deaths: { source: { kind: ftp, ${sql} } } }`)).toBe(
      "county.yaml: feeds.deaths.source.kind: Invalid discriminator value. Expected 'sql' | 'http'",
    );
  });
});
