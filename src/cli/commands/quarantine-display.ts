/**
 * A quarantine row as `ruralhub quarantine` shows it: the column named as the file headed it, the raw value
 * masked wherever it may be an ID, and what was expected (the stored detail — a connector's, for a row it could
 * not read — or the normalizer problem's explanation, src/normalize/explain.ts).
 */
import type { Selectable } from 'kysely';
import type { FieldSpec } from '../../../schemas/feed.ts';
import { explainProblem } from '../../normalize/explain.ts';
import { maskIdColumnValue, maskIdsInText } from '../../normalize/mask.ts';
import type { QuarantineTable } from '../../warehouse/schema.ts';

/** A stored quarantine row as the command reads it (the table's own columns, schema.ts). */
export type StoredQuarantineRow = Pick<
  Selectable<QuarantineTable>,
  'run_id' | 'feed' | 'source' | 'sheet' | 'row_number' | 'field' | 'raw_value' | 'problem' | 'detail'
>;

export type QuarantineLine = StoredQuarantineRow & { header: string | null };

/**
 * `fileHeader` is the header cell the run recorded for the field; a run recorded before headers were kept shows
 * the feed's own name for the column (its label or first alias).
 */
export function quarantineLine(
  row: StoredQuarantineRow,
  spec: FieldSpec | undefined,
  fileHeader: string | null,
): QuarantineLine {
  const raw = row.raw_value;
  return {
    run_id: row.run_id,
    feed: row.feed,
    // A file or sheet a person named after whom it is about (431226…张三.xlsx) is no ID shown either.
    source: maskIdsInText(row.source),
    sheet: row.sheet === null ? null : maskIdsInText(row.sheet),
    row_number: row.row_number,
    field: row.field,
    header: fileHeader ?? spec?.label ?? spec?.aliases[0] ?? row.field,
    // An ID column's value is masked whole (a truncated ID's digits are as much an ID's as a complete one's); any
    // other value, or a whole raw row, has its ID-like runs masked.
    raw_value:
      raw === null ? null : spec?.type.kind === 'id_number' ? maskIdColumnValue(raw) : maskIdsInText(raw),
    problem: row.problem,
    // A connector's detail may quote the row it could not read; the explanation never quotes an ID.
    detail: row.detail === null ? explainProblem(row.problem, spec, raw) : maskIdsInText(row.detail),
  };
}
