/**
 * The states table (src/findings/states.ts) holds every writer of finding_events to it: a small county's
 * findings are matched, exported, answered, reviewed (accepted and rejected), closed by data and reopened, and
 * every event each step wrote is a move the table allows for what made it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import type { Department } from '../../schemas/vocab.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { exportLists } from '../../src/delivery/export-lists.ts';
import { importFeedback } from '../../src/delivery/import-feedback.ts';
import { decideReviews } from '../../src/delivery/review.ts';
import { FINDING_TRANSITIONS, type FindingMover, transitionAllowed } from '../../src/findings/states.ts';
import { runMatch } from '../../src/matching/run-match.ts';
import type { Warehouse } from '../../src/warehouse/connect.ts';
import { personId } from '../support/demo.ts';
import { tempDir, writeCsv } from '../support/files.ts';
import { insured, loadWeek } from '../support/loads.ts';
import { testWarehouse } from '../support/warehouse.ts';

const config = parseConfig('county: { name: 示范县, code: "520102" }', 'inline');
const log = silentLogger();
const dir = tempDir('ruralhub-events-');
let wh: Warehouse;

type Person = { name: string; id: string };
const people = [1, 2, 3, 4, 5, 6].map((n): Person => ({ name: `事件${n}`, id: personId(n) }));
const [A, B, C, D, E, F] = people as [Person, Person, Person, Person, Person, Person];

const load = (feed: 'roster' | 'insurance', week: string, rows: string[][]) =>
  loadWeek({ wh, dir, log }, feed, week, rows);

async function findingOf(p: { id: string }) {
  return wh.db
    .selectFrom('findings')
    .select(['id', 'department', 'state'])
    .where('rule_id', '=', 'R02')
    .where('subject_key', '=', p.id)
    .executeTakeFirstOrThrow();
}

async function answer(name: string, asOf: string, rows: [{ id: string }, string, string, string][]) {
  const cells = await Promise.all(
    rows.map(async ([p, a, why, on]) => [String((await findingOf(p)).id), a, why, on]),
  );
  const path = writeCsv(join(dir, `${name}.csv`), [['清单编号', '核实结果', '说明', '整改日期'], ...cells]);
  const department = (await findingOf(rows[0]![0])).department as Department;
  return importFeedback({ wh, file: path, department, asOf, outDir: join(dir, 'errors'), log });
}

/** Which step wrote an event: a run's are the match's; the others say so in their reason. */
function moverOf(e: { run_id: string | number | null; reason: string }): FindingMover {
  if (e.run_id !== null) return 'match';
  if (e.reason.startsWith('list ')) return 'export';
  if (e.reason.startsWith('answer ')) return 'feedback';
  return 'review';
}

beforeAll(async () => {
  wh = await testWarehouse('finding_events');
  await load(
    'roster',
    'w1',
    people.map((p, i) => [`H${i}`, p.name, p.id, '户主', '监测户']),
  );
});
afterAll(async () => wh?.close());

describe('the states table', () => {
  it('refuses moves the life of a finding does not have', () => {
    expect(transitionAllowed('closed', 'feedback', 'feedback')).toBe(false);
    expect(transitionAllowed('closed', 'sent', 'export')).toBe(false);
    expect(transitionAllowed('sent', 'sent', 'export')).toBe(false);
    expect(transitionAllowed(null, 'sent')).toBe(false);
    expect(transitionAllowed('open', 'reopened')).toBe(false);
    expect(transitionAllowed('open', 'closed', 'review')).toBe(false);
    expect(transitionAllowed('sent', 'closed', 'review')).toBe(false);
    expect(transitionAllowed('feedback', 'open')).toBe(false);
    // … and allows those it has, for what makes them.
    expect(transitionAllowed('open', 'sent', 'export')).toBe(true);
    expect(transitionAllowed('open', 'sent', 'match')).toBe(false);
    expect(transitionAllowed('feedback', 'closed', 'review')).toBe(true);
    expect(transitionAllowed(null, 'open', 'match')).toBe(true);
  });

  it('allows every event written by a match, an export, a feedback import and a review', async () => {
    // Week 1: B–F uninsured, found and sent.
    await load('insurance', 'w1', insured(A));
    await runMatch({ wh, config, log, asOf: '2026-11-24', rules: ['R02'] });
    await exportLists({ wh, outDir: join(dir, 'lists-1'), asOf: '2026-11-24', log });
    // The department answers; the bureau accepts C's 核实不属实 and rejects D's.
    const first = await answer('answers-1', '2026-11-26', [
      [B, '已整改', '', '2026-11-25'],
      [C, '核实不属实', '外省参保', ''],
      [D, '核实不属实', '外省参保', ''],
      [E, '整改中', '正在联系', ''],
    ]);
    expect(first).toMatchObject({ applied: 4, errors: [] });
    const [c, d] = [String((await findingOf(C)).id), String((await findingOf(D)).id)];
    expect(
      await decideReviews({ wh, ids: [c], decision: 'accept', asOf: '2026-11-27', actor: 'test' }),
    ).toEqual([c]);
    expect(
      await decideReviews({
        wh,
        ids: [d],
        decision: 'reject',
        asOf: '2026-11-27',
        actor: 'test',
        note: '请复核',
      }),
    ).toEqual([d]);
    // E's answer changes; week 2: B and F insured (closed by data); week 3: F uninsured again (reopened, sent).
    expect(await answer('answers-2', '2026-11-30', [[E, '已整改', '', '2026-11-29']])).toMatchObject({
      applied: 1,
    });
    await load('insurance', 'w2', insured(A, B, F));
    await runMatch({ wh, config, log, asOf: '2026-12-01', rules: ['R02'] });
    await load('insurance', 'w3', insured(A, B));
    await runMatch({ wh, config, log, asOf: '2026-12-08', rules: ['R02'] });
    await exportLists({ wh, outDir: join(dir, 'lists-2'), asOf: '2026-12-08', log });

    const events = await wh.db
      .selectFrom('finding_events')
      .select(['finding_id', 'run_id', 'from_state', 'to_state', 'reason'])
      .orderBy('id')
      .execute();
    const refused = events.filter((e) => !transitionAllowed(e.from_state, e.to_state, moverOf(e)));
    expect(refused).toEqual([]);
    // Every mover wrote events here: these are the moves this county's weeks make.
    const made = new Set(events.map((e) => `${e.from_state ?? '∅'}→${e.to_state} by ${moverOf(e)}`));
    for (const by of ['match', 'export', 'feedback', 'review'] as const) {
      expect([...made].some((m) => m.endsWith(`by ${by}`))).toBe(true);
    }
    expect(made).toEqual(
      new Set([
        '∅→open by match',
        'open→sent by export',
        'sent→feedback by feedback',
        'feedback→closed by review',
        'feedback→sent by review',
        'feedback→feedback by feedback',
        'feedback→closed by match',
        'sent→closed by match',
        'closed→reopened by match',
        'reopened→sent by export',
      ]),
    );
    for (const m of made) {
      expect(FINDING_TRANSITIONS.some((t) => m === `${t.from ?? '∅'}→${t.to} by ${t.by}`)).toBe(true);
    }
  });
});
