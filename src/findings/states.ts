/**
 * The life of a finding (docs/findings.md) as data: which state a finding may move to from which, and what moves
 * it. The states themselves are a closed vocabulary and stay in schemas/vocab.ts (FINDING_STATES); this file
 * only says how they follow each other.
 *
 * Who moves a finding:
 *   match    — a rule run (src/matching/transitions.ts): first found, found again after a closure, no longer found
 *   export   — a list exported to the department (src/delivery/export-lists.ts)
 *   feedback — a department's answer imported (src/delivery/import-feedback.ts)
 *   review   — the bureau's decision on a 核实不属实 (src/delivery/review.ts)
 *
 * Every row of finding_events is one of these moves (test/integration/finding-events.test.ts holds the writers to
 * the table). A move not listed here is a bug in the statement that made it.
 */
import type { FindingState } from '../../schemas/vocab.ts';

/** What moves a finding from one state to another. */
export const FINDING_MOVERS = ['match', 'export', 'feedback', 'review'] as const;
export type FindingMover = (typeof FINDING_MOVERS)[number];

export interface FindingTransition {
  /** The state left; `null` for a finding that did not exist before (its first event). */
  from: FindingState | null;
  to: FindingState;
  by: FindingMover;
  /** When it happens, in the words of docs/findings.md. */
  when: string;
}

/** The same move from each of several states. */
const fromEach = (
  froms: readonly FindingState[],
  move: Omit<FindingTransition, 'from'>,
): FindingTransition[] => froms.map((from) => ({ from, ...move }));

/** Every allowed move, in the order of a finding's life. */
export const FINDING_TRANSITIONS: readonly FindingTransition[] = [
  { from: null, to: 'open', by: 'match', when: 'a rule run finds the subject for the first time' },
  {
    from: 'closed',
    to: 'reopened',
    by: 'match',
    when: 'found again after being closed by data, or by review once suppress_days have passed',
  },
  ...fromEach(['open', 'reopened'], {
    to: 'sent',
    by: 'export',
    when: 'on a list exported to its department',
  }),
  // An answer may be changed (整改中, later 已整改): feedback → feedback is a move with its own event.
  ...fromEach(['open', 'sent', 'feedback', 'reopened'], {
    to: 'feedback',
    by: 'feedback',
    when: 'the department answers it',
  }),
  {
    from: 'feedback',
    to: 'closed',
    by: 'review',
    when: 'the bureau accepts a 核实不属实 (closed by review)',
  },
  {
    from: 'feedback',
    to: 'sent',
    by: 'review',
    when: 'the bureau rejects a 核实不属实: back to the department',
  },
  ...fromEach(['open', 'sent', 'feedback', 'reopened'], {
    to: 'closed',
    by: 'match',
    when: 'a rule run no longer finds it (closed by data)',
  }),
];

/**
 * Whether a finding in state `from` (`null`: not yet existing) may move to `to` — by `by` when given, else by
 * anything.
 */
export function transitionAllowed(from: string | null, to: string, by?: FindingMover): boolean {
  return FINDING_TRANSITIONS.some((t) => t.from === from && t.to === to && (by === undefined || t.by === by));
}
