/**
 * The life of a finding (DOMAIN §7) over several "weeks" of data: new → open → sent; fixed → closed by data;
 * found again → reopened (the same item); closed by review → suppressed until the reason expires; every
 * transition in the history with its run and reason.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { exportLists } from '../../src/delivery/export-lists.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { personId } from '../support/demo.ts';
import { tempDir } from '../support/files.ts';
import { insured, loadWeek } from '../support/loads.ts';
import { testWarehouse } from '../support/warehouse.ts';

const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-lifecycle-');
let wh: Warehouse;

const person = (n: number) => ({ name: `测试${n}`, id: personId(n) });
const [A, B, C, D, E] = [1, 2, 3, 4, 5].map(person) as [
  ReturnType<typeof person>,
  ReturnType<typeof person>,
  ReturnType<typeof person>,
  ReturnType<typeof person>,
  ReturnType<typeof person>,
];

const load = (feed: 'roster' | 'insurance', week: string, rows: string[][]) =>
  loadWeek({ wh, dir, log }, feed, week, rows);

async function states() {
  const rows = await wh.db
    .selectFrom('findings')
    .select(['subject_key', 'state', 'close_reason'])
    .where('rule_id', '=', 'R02')
    .execute();
  return Object.fromEntries(
    rows.map((r) => [r.subject_key, `${r.state}${r.close_reason ? `/${r.close_reason}` : ''}`]),
  );
}

beforeAll(async () => {
  wh = await testWarehouse('lifecycle');
  await load(
    'roster',
    'w1',
    [A, B, C, D, E].map((p, i) => [`H${i}`, p.name, p.id, '户主', '监测户']),
  );
});
afterAll(async () => wh?.close());

describe('the life of a finding', () => {
  it('moves through open, sent, closed by data and reopened as the weeks bring new data', async () => {
    // Week 1: C, D and E are uninsured.
    await load('insurance', 'w1', insured(A, B));
    const [w1] = await runMatch({ wh, config, log, asOf: '2026-11-24', rules: ['R02'] });
    expect(w1).toMatchObject({ found: 3, new: 3, closed: 0, reopened: 0 });
    await exportLists({ wh, outDir: join(dir, 'lists'), asOf: '2026-11-24', log });
    expect(await states()).toEqual({ [C.id]: 'sent', [D.id]: 'sent', [E.id]: 'sent' });

    // Week 2: C and D got insured (fixed), B's enrollment vanished (new), E still uninsured.
    await load('insurance', 'w2', insured(A, C, D));
    const [w2] = await runMatch({ wh, config, log, asOf: '2026-12-01', rules: ['R02'] });
    expect(w2).toMatchObject({ found: 2, new: 1, stillOpen: 1, closed: 2, reopened: 0 });
    expect(await states()).toEqual({
      [B.id]: 'open',
      [C.id]: 'closed/data',
      [D.id]: 'closed/data',
      [E.id]: 'sent',
    });

    // Week 3: D lost the enrollment again: the same item comes back, reopened, with a new deadline.
    await load('insurance', 'w3', insured(A, C));
    const [w3] = await runMatch({ wh, config, log, asOf: '2026-12-08', rules: ['R02'] });
    expect(w3).toMatchObject({ found: 3, new: 0, stillOpen: 2, closed: 0, reopened: 1 });
    const d = await wh.db
      .selectFrom('findings')
      .select(['id', 'state', 'first_seen_on', 'deadline'])
      .where('rule_id', '=', 'R02')
      .where('subject_key', '=', D.id)
      .executeTakeFirstOrThrow();
    expect(d).toMatchObject({ state: 'reopened', first_seen_on: '2026-11-24', deadline: '2027-01-07' });
    const history = await wh.db
      .selectFrom('finding_events')
      .select(['from_state', 'to_state', 'reason', 'run_id'])
      .where('finding_id', '=', d.id)
      .orderBy('id')
      .execute();
    expect(history.map((h) => `${h.from_state ?? '∅'}→${h.to_state}`)).toEqual([
      '∅→open',
      'open→sent',
      'sent→closed',
      'closed→reopened',
    ]);
    expect(history.every((h) => h.reason.length > 0)).toBe(true);
  });

  it('keeps an item closed by review closed until its reason expires, then reopens it', async () => {
    // The bureau accepted E's "not an issue" answer on 15 Dec (feedback handling is the list workflow's job;
    // here the accepted state is set as that workflow records it).
    await wh.db
      .updateTable('findings')
      .set({ state: 'closed', close_reason: 'review', closed_on: '2026-12-15' })
      .where('rule_id', '=', 'R02')
      .where('subject_key', '=', E.id)
      .execute();
    const [w4] = await runMatch({ wh, config, log, asOf: '2026-12-22', rules: ['R02'] });
    expect(w4).toMatchObject({ reopened: 0 });
    expect((await states())[E.id]).toBe('closed/review');
    // A year later E is still found: the suppression has expired and the item is reopened.
    const [later] = await runMatch({
      wh,
      config,
      log,
      asOf: '2027-12-16',
      rules: ['R02'],
      now: new Date(),
    });
    expect(later!.reopened).toBeGreaterThanOrEqual(1);
    expect((await states())[E.id]).toBe('reopened');
  });
});
