/**
 * The one writer of `finding_events`: every move of a finding (src/findings/states.ts) writes its history row
 * through `insertFindingEvents`, in the same statement that moved it.
 *
 * Set-based (ARCHITECTURE principle 10): the statement that moves findings returns the rows it moved (an
 * `UPDATE … RETURNING` or `INSERT … RETURNING` in a data-modifying CTE), and the events are one
 * `INSERT … SELECT` over them — a CTE of the same statement, or the statement's last part:
 *
 *   WITH s AS (UPDATE findings f SET state = 'sent' … RETURNING f.id, o.from_state)
 *   ${insertFindingEvents({ from: sql`s`, fromState: sql`from_state`, toState: 'sent', reason, onDate })}
 *
 * Nothing here opens a transaction or a session: the caller's transaction (and a department's scope, where
 * row-level security checks each event against the findings it may see) is the one the events are written in.
 */
import { type RawBuilder, sql } from 'kysely';
import type { FindingState } from '../../schemas/vocab.ts';

type Expr = RawBuilder<unknown>;

export interface MovedFindings {
  /**
   * What the events are selected from: the name of the CTE holding the moved rows (sql`u`), or a join over it
   * (sql`up LEFT JOIN prev ON prev.id = up.id`).
   */
  from: Expr;
  /** The moved finding's id in `from`; default `id`. */
  id?: Expr;
  /** The state each row left: a column of `from` (NULL for a finding just created), or one state for all. */
  fromState: Expr | FindingState;
  /** The state each row entered: a column of `from`, or one state for all. */
  toState: Expr | FindingState;
  /** Why: one text for all, or an expression over `from`. */
  reason: Expr | string;
  /** Only these rows of `from` moved (e.g. sql`from_state <> state`). */
  where?: Expr;
  /** The business date of the move: the run's as-of, the export's or answer's or review's date. */
  onDate: string;
  /** The rule run that made the move (a match); absent for moves made outside a run. */
  runId?: number;
}

/** A state given as one of the vocabulary is written as a literal, as the statements always have. */
function stateOf(s: Expr | FindingState): Expr {
  return typeof s === 'string' ? sql.lit(s) : s;
}

/** `INSERT INTO finding_events … SELECT … FROM <moved>`: a CTE body or a statement's last part. */
export function insertFindingEvents(m: MovedFindings): Expr {
  const id = m.id ?? sql`id`;
  const reason = typeof m.reason === 'string' ? sql`${m.reason}` : m.reason;
  const where = m.where ? sql` WHERE ${m.where}` : sql``;
  // run_id only when a run made the move: events outside a run leave it to its default (NULL), as they always have.
  if (m.runId !== undefined) {
    return sql`INSERT INTO finding_events (finding_id, run_id, on_date, from_state, to_state, reason)
      SELECT ${id}, ${m.runId}, ${m.onDate}::date, ${stateOf(m.fromState)}, ${stateOf(m.toState)}, ${reason}
      FROM ${m.from}${where}`;
  }
  return sql`INSERT INTO finding_events (finding_id, on_date, from_state, to_state, reason)
    SELECT ${id}, ${m.onDate}::date, ${stateOf(m.fromState)}, ${stateOf(m.toState)}, ${reason}
    FROM ${m.from}${where}`;
}
