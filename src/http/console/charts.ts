/**
 * The dashboard's charts, drawn on the server with Apache ECharts into SVG and put inline in the page, so they
 * show without a script (the console runs none) and print as they look.
 *
 * The console's Content-Security-Policy allows one inline stylesheet, by hash, and nothing else: the `style`
 * attributes and the hover `<style>` element ECharts writes would be dropped by the browser (and reported as
 * violations). So every SVG is rewritten before it is sent: the style declarations become SVG presentation
 * attributes (font-size="12px", font-family=…), which the policy does not govern, and the hover rules go.
 */
import * as echarts from 'echarts';
import { Html, html } from './html.ts';

/** CJK-capable fonts first: a chart's text is Chinese (the test machines have WenQuanYi Zen Hei). */
export const CHART_FONT = 'Noto Sans CJK SC, WenQuanYi Zen Hei, Microsoft YaHei, PingFang SC, sans-serif';

/** Colours of the indicator statuses, as the tables' .ok/.risk/.bad cells show them. */
export const STATUS_COLOURS = { 达标: '#8ce99a', 风险: '#ffe066', 未达标: '#ff8787' } as const;

const PRESENTATION = new Set([
  'font-size',
  'font-family',
  'font-weight',
  'font-style',
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-opacity',
  'opacity',
]);

/**
 * An ECharts SVG the CSP lets through unchanged: `style="…"` becomes presentation attributes, the `<style>`
 * element and ECharts' own `ecmeta_*` bookkeeping attributes go, and the root gets an id and an accessible name.
 */
export function cspSafeSvg(svg: string, id: string, label: string): string {
  const attr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return svg
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/ style="([^"]*)"/g, (_m, decls: string) =>
      decls
        .split(';')
        .map((d) => {
          const i = d.indexOf(':');
          const prop = d.slice(0, i).trim().toLowerCase();
          const value = d.slice(i + 1).trim();
          return i > 0 && PRESENTATION.has(prop) && value
            ? ` ${prop}="${value.replace(/"/g, '&quot;')}"`
            : '';
        })
        .join(''),
    )
    .replace(/ ecmeta_[a-z_]+="[^"]*"/g, '')
    .replace(/^<svg /, `<svg id="${attr(id)}" role="img" aria-label="${attr(label)}" `);
}

/** Renders one chart to inline SVG: no animation (there is no second frame), the CJK fonts for its text. */
export function svgChart(
  id: string,
  label: string,
  option: echarts.EChartsCoreOption,
  size: { width: number; height: number },
): Html {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, ...size });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: CHART_FONT }, ...option });
    return new Html(`<figure class="chart">${cspSafeSvg(chart.renderToSVGString(), id, label)}</figure>`);
  } finally {
    chart.dispose();
  }
}

/** Horizontal bars, one per category, each labelled with its figure. */
export function barChart(
  id: string,
  label: string,
  bars: readonly { name: string; value: number }[],
  colour = '#1f4e79',
): Html {
  if (!bars.length) return html`<p>暂无数据</p>`;
  return svgChart(
    id,
    label,
    {
      grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value', minInterval: 1, axisLabel: { show: false }, splitLine: { show: false } },
      // The first category on top, as in the table beside it.
      yAxis: { type: 'category', inverse: true, data: bars.map((b) => b.name), axisLabel: { interval: 0 } },
      series: [
        {
          type: 'bar',
          data: bars.map((b) => b.value),
          itemStyle: { color: colour },
          barMaxWidth: 18,
          label: { show: true, position: 'right', color: '#1f2933' },
        },
      ],
    },
    { width: 480, height: 24 + 26 * bars.length },
  );
}

/** A line over the match days, each point labelled with its figure. */
export function trendChart(
  id: string,
  label: string,
  points: readonly { day: string; value: number }[],
): Html {
  if (!points.length) return html`<p>暂无比对记录</p>`;
  return svgChart(
    id,
    label,
    {
      grid: { left: 8, right: 24, top: 28, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: points.map((p) => p.day.slice(5)), axisLabel: { interval: 0 } },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        {
          type: 'line',
          data: points.map((p) => p.value),
          itemStyle: { color: '#1f4e79' },
          symbolSize: 7,
          label: { show: true, position: 'top', color: '#1f2933' },
        },
      ],
    },
    { width: 560, height: 220 },
  );
}

/**
 * Indicators by township as a coloured grid: a row per township, a column per indicator, each cell coloured by
 * its status and labelled with its rate (— when nobody is counted).
 */
export function statusGrid(
  id: string,
  label: string,
  p: {
    rows: readonly string[];
    columns: readonly string[];
    cells: readonly { row: number; column: number; status: keyof typeof STATUS_COLOURS; text: string }[];
  },
): Html {
  if (!p.rows.length) return html`<p>暂无数据</p>`;
  const order = Object.keys(STATUS_COLOURS) as (keyof typeof STATUS_COLOURS)[];
  return svgChart(
    id,
    label,
    {
      grid: { left: 8, right: 8, top: 8, bottom: 8, containLabel: true },
      xAxis: {
        type: 'category',
        position: 'top',
        data: [...p.columns],
        axisLabel: { interval: 0, fontSize: 11 },
        splitArea: { show: false },
      },
      yAxis: { type: 'category', inverse: true, data: [...p.rows], axisLabel: { interval: 0 } },
      visualMap: {
        show: false,
        type: 'piecewise',
        dimension: 2,
        pieces: order.map((s, i) => ({ value: i, color: STATUS_COLOURS[s] })),
      },
      series: [
        {
          type: 'heatmap',
          data: p.cells.map((c) => ({ value: [c.column, c.row, order.indexOf(c.status)], name: c.text })),
          label: { show: true, color: '#1f2933', formatter: (x: { name: string }) => x.name },
          itemStyle: { borderColor: '#fff', borderWidth: 2 },
        },
      ],
    },
    { width: 760, height: 40 + 30 * p.rows.length },
  );
}
