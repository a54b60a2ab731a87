/** The bureau's findings browser (/console/findings): the listing the API serves, filtered, IDs masked. */
import { RULE_IDS } from '../../../pipelines/rules/index.ts';
import { codeOf, FINDING_STATE_FILTER_LABELS } from '../../../schemas/labels.ts';
import { DEPARTMENTS } from '../../../schemas/vocab.ts';
import { FINDING_COLUMNS, FINDINGS_STATE_FILTERS, selectFindings } from '../../findings/query.ts';
import { maskDeep } from '../mask-json.ts';
import {
  type Html,
  html,
  PERSON_IN_PLACE_HEADERS,
  personInPlace,
  ruleName,
  stateLabel,
  table,
} from './html.ts';
import type { ConsolePage } from './page.ts';

/** The most a page shows; the API pages through the rest. */
const SHOWN = 200;

/** A drop-down of a closed vocabulary: codes as values, Chinese as the reader sees them, `selected` kept. */
function select(
  name: string,
  options: readonly (readonly [code: string, label: string])[],
  selected: string,
): Html {
  return html`<select name="${name}" id="filter-${name}">${options.map(
    ([code, label]) =>
      html`<option value="${code}"${code === selected ? html` selected` : ''}>${label}</option>`,
  )}</select>`;
}

export const findingsPage: ConsolePage = {
  method: 'GET',
  path: '/console/findings',
  roles: ['bureau'],
  nav: { roles: ['bureau'], label: () => '疑点' },
  render: async ({ ctx, query: q }) => {
    // A state given as the table shows it (已派发) or as its code (sent) is the same filter; a rule or department
    // not in its vocabulary is said so rather than answered with an empty table.
    const state = q.state ? codeOf(FINDING_STATE_FILTER_LABELS, q.state) : 'not_closed';
    const rule = q.rule?.trim() ? RULE_IDS.find((r) => r === q.rule?.trim().toUpperCase()) : '';
    const department = q.department?.trim() ? DEPARTMENTS.find((d) => d === q.department?.trim()) : '';
    const form = html`<form method="get" id="filter"><label>规则 ${select('rule', [['', '全部规则'], ...RULE_IDS.map((r) => [r, ruleName(r)] as const)], rule ?? '')}</label>
<label>部门 ${select('department', [['', '全部部门'], ...DEPARTMENTS.map((d) => [d, d] as const)], department ?? '')}</label>
<label>状态 ${select(
      'state',
      FINDINGS_STATE_FILTERS.map((s) => [s, FINDING_STATE_FILTER_LABELS[s]] as const),
      state ?? '',
    )}</label>
<button>筛选</button></form>`;
    const wrong = [
      state === undefined ? `没有“${q.state}”这个状态` : '',
      rule === undefined ? `没有规则“${q.rule}”` : '',
      department === undefined ? `没有部门“${q.department}”` : '',
    ].filter(Boolean);
    if (wrong.length) {
      return {
        title: '疑点',
        status: 400,
        body: html`${form}<p class="error">${wrong.join('；')}。请从下拉列表中选择。</p>`,
      };
    }
    const rows = maskDeep(
      await selectFindings(ctx.wh.db, {
        rules: rule ? [rule] : undefined,
        department: department || undefined,
        state,
      })
        .select(FINDING_COLUMNS)
        .orderBy('rule_id')
        .orderBy('id')
        .limit(SHOWN)
        .execute(),
    );
    return {
      title: '疑点',
      body: html`${form}<p>最多显示 ${SHOWN} 条；身份证号已脱敏。</p>
${table(
  ['编号', '规则', '部门', ...PERSON_IN_PLACE_HEADERS, '状态', '首次发现', '时限'],
  rows.map((r) => [
    r.id,
    ruleName(r.rule_id),
    r.department,
    ...personInPlace(r),
    stateLabel(r.state),
    r.first_seen_on,
    r.deadline,
  ]),
  'findings',
)}`,
    };
  },
};
