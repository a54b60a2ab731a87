/**
 * The bureau's dashboard (/console): open and overdue findings, the indicators by township, open findings by rule
 * and department, and their trend. Operators and departments are sent on to their own home pages.
 */
import { sql } from 'kysely';
import { computeIndicators, INDICATOR_LABELS } from '../../reporting/indicators.ts';
import type { Warehouse } from '../../warehouse/connect.ts';
import { html, lineChart, ruleName, table } from './html.ts';
import type { ConsolePage } from './page.ts';

const STATUS_CLASS: Record<string, string> = { 达标: 'ok', 风险: 'risk', 未达标: 'bad' };

export const dashboardPage: ConsolePage = {
  method: 'GET',
  path: '/console',
  roles: ['bureau', 'operator', 'department'],
  nav: { roles: ['bureau'], label: () => '总览' },
  render: async ({ ctx, who }) => {
    if (who.role === 'operator') return { redirect: '/console/operator' };
    if (who.role === 'department') return { redirect: '/console/department' };
    const today = ctx.today();
    const [indicators, open, trend] = await Promise.all([
      computeIndicators(ctx.wh.db, { asOf: today, config: ctx.config }),
      openByRuleAndDepartment(ctx.wh, today),
      openTrend(ctx.wh),
    ]);
    const total = open.reduce((n, r) => n + r.open, 0);
    const overdue = open.reduce((n, r) => n + r.overdue, 0);
    const townships = indicators.filter((i) => i.level !== 'village');
    return {
      title: `${ctx.config.county.name} 总览`,
      body: html`<div class="cards"><div class="card">未销号疑点<div class="num" id="open-total">${total}</div></div>
<div class="card">其中逾期<div class="num" id="overdue-total">${overdue}</div></div></div>
<h2>监测指标（按乡镇）</h2>
${table(
  ['指标', '乡镇', '达标', '应统计', '比率', '目标', '状态'],
  townships.map((i) => [
    INDICATOR_LABELS[i.indicator],
    i.township ?? '全县',
    i.numerator,
    i.denominator,
    i.rate === null ? '—' : `${(i.rate * 100).toFixed(1)}%`,
    `${(i.target * 100).toFixed(0)}%`,
    html`<span class="${STATUS_CLASS[i.status] ?? ''}">${i.status}</span>`,
  ]),
  'indicators',
)}
<h2>未销号与逾期（按规则、部门）</h2>
${table(
  ['规则', '责任部门', '未销号', '逾期'],
  open.map((r) => [ruleName(r.rule_id), r.department, r.open, r.overdue]),
  'open-by-rule',
)}
<h2>未销号疑点趋势（最近比对日）</h2>${lineChart(trend.map((t) => ({ label: t.day, value: t.open })))}`,
    };
  },
};

/** Open and overdue findings by rule and department, today. */
async function openByRuleAndDepartment(wh: Warehouse, today: string) {
  return (
    await sql<{ rule_id: string; department: string; open: number; overdue: number }>`
      SELECT rule_id, department, count(*)::int AS open,
             count(*) FILTER (WHERE deadline < ${today}::date)::int AS overdue
      FROM findings WHERE state <> 'closed' GROUP BY 1, 2 ORDER BY 1, 2`.execute(wh.db)
  ).rows;
}

/** Open findings at the end of each of the last `n` days a match ran (from the history). */
async function openTrend(wh: Warehouse, n = 12) {
  return (
    await sql<{ day: string; open: number }>`
      WITH days AS (SELECT DISTINCT on_date AS day FROM finding_events WHERE run_id IS NOT NULL
                    ORDER BY 1 DESC LIMIT ${n})
      SELECT d.day::text AS day,
        (SELECT count(*)::int FROM (
           SELECT DISTINCT ON (e.finding_id) e.to_state FROM finding_events e WHERE e.on_date <= d.day
           ORDER BY e.finding_id, e.on_date DESC, e.id DESC) s WHERE s.to_state <> 'closed') AS open
      FROM days d ORDER BY d.day`.execute(wh.db)
  ).rows;
}
