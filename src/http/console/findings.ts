/** The bureau's findings browser (/console/findings): the listing the API serves, filtered, IDs masked. */
import { FINDING_COLUMNS, selectFindings } from '../../findings/query.ts';
import { maskDeep } from '../mask-json.ts';
import { html, PERSON_IN_PLACE_HEADERS, personInPlace, ruleName, stateLabel, table } from './html.ts';
import type { ConsolePage } from './page.ts';

/** The most a page shows; the API pages through the rest. */
const SHOWN = 200;

export const findingsPage: ConsolePage = {
  method: 'GET',
  path: '/console/findings',
  roles: ['bureau'],
  nav: { roles: ['bureau'], label: () => '疑点' },
  render: async ({ ctx, query: q }) => {
    const rows = maskDeep(
      await selectFindings(ctx.wh.db, {
        rules: q.rule ? [q.rule] : undefined,
        department: q.department,
        state: q.state,
      })
        .select(FINDING_COLUMNS)
        .orderBy('rule_id')
        .orderBy('id')
        .limit(SHOWN)
        .execute(),
    );
    return {
      title: '疑点',
      body: html`<form method="get"><input name="rule" placeholder="规则 R01" value="${q.rule ?? ''}">
<input name="department" placeholder="部门" value="${q.department ?? ''}"><input name="state" placeholder="状态 open/sent/…" value="${q.state ?? ''}">
<button>筛选</button></form><p>最多显示 ${SHOWN} 条；身份证号已脱敏。</p>
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
