/**
 * The bureau's findings browser (/console/findings): the listing the API serves, filtered by rule, department,
 * township, village, state, overdue and "open at the end of a match day", paged, IDs masked; each row says its
 * problem in the rule's own words and links to the person; `format=csv` exports exactly what is filtered (every
 * page), audited. The dashboard's numbers link here (findingsHref), so a figure and the rows behind it are the
 * same query.
 */
import { sql } from 'kysely';
import { RULE_IDS, ruleById } from '../../../pipelines/rules/index.ts';
import { codeOf, FINDING_STATE_FILTER_LABELS } from '../../../schemas/labels.ts';
import { DEPARTMENTS } from '../../../schemas/vocab.ts';
import { csvLine, UTF8_BOM } from '../../delivery/csv.ts';
import { neutralizeCell } from '../../delivery/neutralize.ts';
import { FINDING_COLUMNS, FINDINGS_STATE_FILTERS, selectFindings } from '../../findings/query.ts';
import { maskDeep } from '../mask-json.ts';
import { audit } from '../request.ts';
import {
  type Html,
  html,
  type Part,
  PERSON_IN_PLACE_HEADERS,
  personInPlace,
  ruleName,
  stateLabel,
  table,
} from './html.ts';
import type { ConsolePage } from './page.ts';

/** Rows on one page; the page links and the CSV reach the rest. */
export const PAGE_SIZE = 200;

/** What the browser shows, as its query string says it (absent: the default). */
export interface FindingsView {
  rule?: string;
  department?: string;
  township?: string;
  village?: string;
  /** A FINDINGS_STATE_FILTERS word; absent: not_closed. */
  state?: string;
  /** Only findings not closed and past their deadline today. */
  overdue?: boolean;
  /** Only findings open at the end of this match day (YYYY-MM-DD), by their events: the trend's points. */
  openOn?: string;
  page?: number;
}

/** The browser's address for a view: only what differs from the defaults, in a fixed order. */
export function findingsHref(v: FindingsView, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  if (v.rule) q.set('rule', v.rule);
  if (v.department) q.set('department', v.department);
  if (v.township) q.set('township', v.township);
  if (v.village) q.set('village', v.village);
  if (v.state && v.state !== 'not_closed') q.set('state', v.state);
  if (v.overdue) q.set('overdue', '1');
  if (v.openOn) q.set('open_on', v.openOn);
  if (v.page && v.page > 1) q.set('page', String(v.page));
  for (const [k, val] of Object.entries(extra)) q.set(k, val);
  const s = q.toString();
  return `/console/findings${s ? `?${s}` : ''}`;
}

/** A figure that opens the findings behind it. */
export const countLink = (n: number, v: FindingsView): Html => html`<a href="${findingsHref(v)}">${n}</a>`;

/** A drop-down: codes as values, Chinese as the reader sees them, `selected` kept. */
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

/**
 * A finding's problem in the words its rule's list uses: the rule's own disclosed columns (from the details),
 * as 表头：值, joined by ；. IDs in them are masked by the caller, as everything on the page.
 */
export function problemText(ruleId: string, details: unknown): string {
  const rule = ruleById(ruleId);
  if (!rule || !details || typeof details !== 'object') return '';
  const d = details as Record<string, unknown>;
  return rule.disclosed
    .filter((f) => f.from === 'details')
    .flatMap((f) => {
      const v = d[f.key];
      if (v === null || v === undefined || v === '') return [];
      return [`${f.label}：${typeof v === 'object' ? JSON.stringify(v) : String(v)}`];
    })
    .join('；');
}

const HEADERS = ['编号', '规则', '部门', ...PERSON_IN_PLACE_HEADERS, '问题', '状态', '首次发现', '时限'];
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Page links: the first, the last, and the three either side of the current one. */
function pager(v: FindingsView, page: number, pages: number): Html {
  if (pages <= 1) return html``;
  const shown = [...new Set([1, ...Array.from({ length: 7 }, (_, i) => page - 3 + i), pages])]
    .filter((n) => n >= 1 && n <= pages)
    .sort((a, b) => a - b);
  const parts: Part[] = [];
  let last = 0;
  for (const n of shown) {
    if (n > last + 1) parts.push(html`<span>…</span>`);
    parts.push(
      n === page
        ? html`<strong aria-current="page">${n}</strong>`
        : html`<a href="${findingsHref({ ...v, page: n })}">${n}</a>`,
    );
    last = n;
  }
  const prev =
    page > 1 ? html`<a href="${findingsHref({ ...v, page: page - 1 })}" rel="prev">上一页</a>` : '';
  const next =
    page < pages ? html`<a href="${findingsHref({ ...v, page: page + 1 })}" rel="next">下一页</a>` : '';
  return html`<nav class="pager" id="pager">${prev} ${parts.map((p) => html`${p} `)}${next}</nav>`;
}

export const findingsPage: ConsolePage = {
  method: 'GET',
  path: '/console/findings',
  roles: ['bureau'],
  nav: { roles: ['bureau'], label: () => '疑点' },
  render: async ({ ctx, who, query: q }) => {
    const today = ctx.today();
    // A state given as the table shows it (已派发) or as its code (sent) is the same filter; a rule, department or
    // place not in the data is said so rather than answered with an empty table.
    const state = q.state ? codeOf(FINDING_STATE_FILTER_LABELS, q.state) : 'not_closed';
    const rule = q.rule?.trim() ? RULE_IDS.find((r) => r === q.rule?.trim().toUpperCase()) : '';
    const department = q.department?.trim() ? DEPARTMENTS.find((d) => d === q.department?.trim()) : '';
    // The places findings are about, for the drop-downs (any state: a closed finding's village is still a
    // place one may ask about).
    const places = (
      await sql<{ township: string; village: string | null }>`
        SELECT DISTINCT township, village FROM findings WHERE township IS NOT NULL
        ORDER BY township, village`.execute(ctx.wh.db)
    ).rows;
    const townships = [...new Set(places.map((p) => p.township))];
    const township = q.township?.trim() ? townships.find((t) => t === q.township?.trim()) : '';
    const villages = [
      ...new Set(
        places.filter((p) => p.village && (!township || p.township === township)).map((p) => p.village!),
      ),
    ];
    const village = q.village?.trim() ? villages.find((v) => v === q.village?.trim()) : '';
    const overdue = q.overdue === '1';
    const openOn = q.open_on?.trim() ?? '';
    const page = q.page?.trim() ? Number(q.page) : 1;
    const view: FindingsView = {
      rule: rule || undefined,
      department: department || undefined,
      township: township || undefined,
      village: village || undefined,
      state,
      overdue,
      openOn: openOn || undefined,
    };

    const form = html`<form method="get" id="filter"><label>规则 ${select('rule', [['', '全部规则'], ...RULE_IDS.map((r) => [r, ruleName(r)] as const)], rule ?? '')}</label>
<label>部门 ${select('department', [['', '全部部门'], ...DEPARTMENTS.map((d) => [d, d] as const)], department ?? '')}</label>
<label>乡镇 ${select('township', [['', '全部乡镇'], ...townships.map((t) => [t, t] as const)], township ?? '')}</label>
<label>村 ${select('village', [['', '全部村'], ...villages.map((v) => [v, v] as const)], village ?? '')}</label>
<label>状态 ${select(
      'state',
      FINDINGS_STATE_FILTERS.map((s) => [s, FINDING_STATE_FILTER_LABELS[s]] as const),
      state ?? '',
    )}</label>
<label>逾期 ${select(
      'overdue',
      [
        ['', '不限'],
        ['1', '仅逾期'],
      ],
      overdue ? '1' : '',
    )}</label>
${openOn ? html`<input type="hidden" name="open_on" value="${openOn}">` : ''}<button>筛选</button></form>`;
    const wrong = [
      state === undefined ? `没有“${q.state}”这个状态` : '',
      rule === undefined ? `没有规则“${q.rule}”` : '',
      department === undefined ? `没有部门“${q.department}”` : '',
      township === undefined ? `没有乡镇“${q.township}”的疑点` : '',
      village === undefined ? `${township ? `${township}` : ''}没有村“${q.village}”的疑点` : '',
      openOn && !(DAY.test(openOn) && !Number.isNaN(Date.parse(openOn))) ? `“${openOn}”不是日期` : '',
      !Number.isInteger(page) || page < 1 ? `没有第“${q.page}”页` : '',
    ].filter(Boolean);
    if (wrong.length) {
      return {
        title: '疑点',
        status: 400,
        body: html`${form}<p class="error">${wrong.join('；')}。请从下拉列表中选择。</p>`,
      };
    }

    let filtered = selectFindings(ctx.wh.db, {
      rules: rule ? [rule] : undefined,
      department: department || undefined,
      township: township || undefined,
      state,
      overdueOn: overdue ? today : undefined,
    });
    if (village) filtered = filtered.where('village', '=', village);
    if (openOn) {
      // Open at the end of that day: the finding's last event on or before it left it in a state other than
      // closed — the same reading of the history as the dashboard's trend.
      filtered = filtered.where(
        sql<boolean>`(SELECT e.to_state FROM finding_events e WHERE e.finding_id = findings.id
                        AND e.on_date <= ${openOn}::date ORDER BY e.on_date DESC, e.id DESC LIMIT 1) <> 'closed'`,
      );
    }
    const rowsOf = (limit: number | null, offset: number) => {
      let r = filtered
        .select(FINDING_COLUMNS)
        // A person link carries the surrogate key, never the ID (as the person page's own candidate links).
        .select(
          sql<
            string | null
          >`(SELECT person_key::text FROM persons WHERE persons.id_number = findings.id_number)`.as(
            'person_key',
          ),
        )
        .orderBy('rule_id')
        .orderBy('id');
      if (limit !== null) r = r.limit(limit).offset(offset);
      return r.execute();
    };

    if (q.format === 'csv') {
      const rows = maskDeep(await rowsOf(null, 0));
      await audit(ctx.wh, who, 'findings.export', 'console 疑点', rows.length, {
        via: 'console',
        format: 'csv',
        filter: { rule, department, township, village, state, overdue, open_on: openOn },
      });
      const body =
        UTF8_BOM +
        csvLine(HEADERS) +
        rows
          .map((r) =>
            csvLine(
              [
                String(r.id),
                ruleName(r.rule_id),
                r.department,
                r.id_number,
                r.name,
                r.township,
                r.village,
                problemText(r.rule_id, r.details),
                stateLabel(r.state),
                r.first_seen_on,
                r.deadline,
              ].map(neutralizeCell),
            ),
          )
          .join('');
      return { download: { filename: `疑点-${today}.csv`, type: 'text/csv; charset=utf-8', body } };
    }

    const { total } = await filtered
      .select((eb) => eb.fn.countAll<string>().as('total'))
      .executeTakeFirstOrThrow();
    const count = Number(total);
    const pages = Math.max(1, Math.ceil(count / PAGE_SIZE));
    const rows = maskDeep(await rowsOf(PAGE_SIZE, (page - 1) * PAGE_SIZE));
    const from = count ? (page - 1) * PAGE_SIZE + 1 : 0;
    return {
      title: '疑点',
      body: html`${form}<p>共 <span id="total">${count}</span> 条，第 ${page}/${pages} 页（第 ${from}–${(page - 1) * PAGE_SIZE + rows.length} 条），每页 ${PAGE_SIZE} 条；身份证号已脱敏。
<a id="export" href="${findingsHref(view, { format: 'csv' })}">导出 CSV（全部 ${count} 条）</a></p>
${pager(view, page, pages)}
${table(
  [...HEADERS, '人员'],
  rows.map((r) => [
    r.id,
    ruleName(r.rule_id),
    r.department,
    ...personInPlace(r),
    problemText(r.rule_id, r.details),
    stateLabel(r.state),
    r.first_seen_on,
    r.deadline,
    r.person_key
      ? html`<a class="person" href="/console/persons?key=${r.person_key}&amp;purpose=${encodeURIComponent(`核查疑点${r.id}`)}">查看</a>`
      : '',
  ]),
  'findings',
)}
${pager(view, page, pages)}`,
    };
  },
};
