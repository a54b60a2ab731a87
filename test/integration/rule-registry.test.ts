/**
 * A rule is one step: a throw-away rule declared in one file (test/support/throwaway-rule.ts) and handed to
 * `runMatch` in a registry runs over a warehouse like any rule of the catalog — its parameters checked by
 * itself, its findings opened, closed and recorded in the ledger — with nothing else of the project touched.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { resolveFeed } from '../../pipelines/feeds/resolve.ts';
import { RULES, ruleRegistry } from '../../pipelines/rules/index.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { importFeed } from '../../src/load/import-feed.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { personId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { THROWAWAY_RULES, t01 } from '../support/throwaway-rule.ts';
import { testWarehouse } from '../support/warehouse.ts';

const AS_OF = '2026-11-24';
const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-rule-registry-');
let wh: Warehouse;

/** Loads the roster: households of the given members (户编号, 姓名, relation), head first. */
async function loadRoster(week: string, households: Record<string, string[]>) {
  const rows = Object.entries(households).flatMap(([household, names]) =>
    names.map((name, i) => [
      household,
      name,
      personId(Number(name.slice(2))),
      i === 0 ? '户主' : '子女',
      '监测户',
    ]),
  );
  const path = writeCsv(join(dir, `roster-${week}.csv`), [
    ['户编号', '姓名', '证件号码', '与户主关系', '户类型'],
    ...rows,
  ]);
  const s = await importFeed({
    wh,
    feed: resolveFeed('roster'),
    feedConfig: { header_aliases: {}, max_shrink: 1 },
    path,
    log,
    today: AS_OF,
    timeZone: 'Asia/Shanghai',
  });
  expect(s.status).toBe('succeeded');
}

async function findings() {
  return wh.db
    .selectFrom('findings')
    .select(['rule_id', 'subject_key', 'subject_kind', 'department', 'state', 'name', 'id_number', 'details'])
    .orderBy('subject_key')
    .execute();
}

beforeAll(async () => {
  wh = await testWarehouse('rule_registry');
  await loadRoster('w1', { H1: ['测试1'], H2: ['测试2', '测试3'], H3: ['测试4'] });
});
afterAll(async () => wh?.close());

describe('a rule declared in one file and passed to runMatch in a registry', () => {
  it('runs over the warehouse and opens its findings, with the columns its declaration discloses', async () => {
    const outcomes = await runMatch({ wh, config, log, asOf: AS_OF, registry: THROWAWAY_RULES });
    expect(outcomes).toMatchObject([
      {
        rule: 'T01',
        name: '测试规则：小户',
        owner: '乡村振兴局',
        status: 'ran',
        population: 3,
        found: 2,
        new: 2,
      },
    ]);
    expect(await findings()).toEqual([
      {
        rule_id: 'T01',
        subject_key: 'H1',
        subject_kind: 'household',
        department: '乡村振兴局',
        state: 'open',
        name: '测试1',
        id_number: personId(1),
        details: { members: 1 },
      },
      {
        rule_id: 'T01',
        subject_key: 'H3',
        subject_kind: 'household',
        department: '乡村振兴局',
        state: 'open',
        name: '测试4',
        id_number: personId(4),
        details: { members: 1 },
      },
    ]);
    expect(t01.disclosed.map((d) => d.label)).toEqual([
      '乡镇',
      '村',
      '户编号',
      '户主姓名',
      '户主身份证号',
      '家庭人口',
    ]);
    // The run is in the ledger under the rule's id, as every rule's is.
    const runs = await wh.db
      .selectFrom('runs')
      .select(['source', 'status'])
      .where('kind', '=', 'match')
      .execute();
    expect(runs).toEqual([{ source: 'T01', status: 'succeeded' }]);
  });

  it('closes by data what the next data no longer shows, as the catalog rules do', async () => {
    await loadRoster('w2', { H1: ['测试1', '测试5'], H2: ['测试2', '测试3'], H3: ['测试4'] });
    const [o] = await runMatch({ wh, config, log, asOf: AS_OF, registry: THROWAWAY_RULES, rules: ['T01'] });
    expect(o).toMatchObject({ rule: 'T01', status: 'ran', found: 1, new: 0, stillOpen: 1, closed: 1 });
    expect((await findings()).map((f) => `${f.subject_key}:${f.state}`)).toEqual(['H1:closed', 'H3:open']);
  });

  it('has its parameters checked by its own schema, the config key named', () => {
    expect(t01.bind({}).ok).toBe(true);
    const bad = t01.bind({ max_members: 0 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issues.map((i) => i.path.join('.'))).toEqual(['max_members']);
  });

  it('joins the project’s rules in one registry, each keyed by its own id', async () => {
    const all = ruleRegistry({ ...RULES, ...THROWAWAY_RULES });
    expect(Object.keys(all)).toEqual([...Object.keys(RULES), 'T01']);
    // @ts-expect-error a registry key must be its rule's id
    ruleRegistry({ T02: t01 });
    // Only the named rule runs: the catalog's rules need feeds this warehouse never loaded.
    const outcomes = await runMatch({ wh, config, log, asOf: AS_OF, registry: all, rules: ['T01', 'R05'] });
    expect(outcomes.map((o) => `${o.rule}:${o.status}`)).toEqual(['T01:unchanged', 'R05:skipped']);
  });
});
