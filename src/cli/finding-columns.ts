import { ruleById } from '../../pipelines/rules/index.ts';

/**
 * A finding's details for a person at a terminal: `标签：值` by the rule's disclosed Chinese labels, in its order
 * (as the department's list heads them, src/delivery/export-lists.ts; where the finding came from is in
 * source_file/source_row); empty values left out, pairs separated by `；`. A rule this version does not have shows
 * every key by its name.
 */
export function detailsText(rule: string, details: unknown): string {
  if (details === null || typeof details !== 'object') return '';
  const d = details as Record<string, unknown>;
  const known = ruleById(rule);
  const labels = new Map(
    (known?.disclosed ?? []).flatMap((f) => (f.from === 'details' ? [[f.key, f.label] as const] : [])),
  );
  const keys = known ? [...labels.keys()] : Object.keys(d);
  return keys
    .flatMap((k) => {
      const v = d[k];
      if (v === null || v === undefined || v === '') return [];
      return [`${labels.get(k) ?? k}：${typeof v === 'object' ? JSON.stringify(v) : String(v)}`];
    })
    .join('；');
}
