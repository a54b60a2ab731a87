/**
 * The dashboard's charts as the browser receives them: SVG the console's CSP (style-src by hash only) lets
 * through whole — no style attribute, no <style> element — with a department's own words escaped.
 */
import { describe, expect, it } from 'vitest';
import { barChart, cspSafeSvg, statusGrid, trendChart } from '../../src/http/console/charts.ts';

describe('dashboard charts', () => {
  it('turns style declarations into presentation attributes and drops the hover stylesheet', () => {
    const svg =
      '<svg width="10" height="10"><text style="font-size:12px;font-family:WenQuanYi Zen Hei;cursor:pointer;" fill="#000">1</text>' +
      '<style ><![CDATA[.zr0-cls-0:hover{cursor:pointer}]]></style></svg>';
    expect(cspSafeSvg(svg, 'c', '图')).toBe(
      '<svg id="c" role="img" aria-label="图" width="10" height="10"><text font-size="12px" font-family="WenQuanYi Zen Hei" fill="#000">1</text></svg>',
    );
  });

  it('draws bars, a trend and a grid with their figures as text, nothing a strict CSP would block', () => {
    const charts = [
      barChart('bars', '按部门', [
        { name: '<script>alert(1)</script>', value: 7 },
        { name: '教育局', value: 12 },
      ]).value,
      trendChart('trend', '趋势', [
        { day: '2026-11-24', value: 244 },
        { day: '2027-01-05', value: 1347 },
      ]).value,
      statusGrid('grid', '指标', {
        rows: ['全县', '城关镇'],
        columns: ['义务教育'],
        cells: [
          { row: 0, column: 0, status: '达标', text: '100.0%' },
          { row: 1, column: 0, status: '未达标', text: '87.5%' },
        ],
      }).value,
    ];
    for (const c of charts) {
      expect(c).toMatch(/^<figure class="chart"><svg id="\w+" role="img" aria-label="[^"]+" /);
      expect(c).not.toMatch(/ style="|<style|<script|ecmeta_/);
    }
    const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(texts(charts[0]!)).toEqual(['&lt;script&gt;alert(1)&lt;/script&gt;', '教育局', '7', '12']);
    expect(texts(charts[1]!)).toEqual(expect.arrayContaining(['11-24', '01-05', '244', '1347']));
    expect(texts(charts[2]!)).toEqual(
      expect.arrayContaining(['全县', '城关镇', '义务教育', '100.0%', '87.5%']),
    );
    expect(charts[2]).toContain('fill="#8ce99a"');
    expect(charts[2]).toContain('fill="#ff8787"');
  });
});
