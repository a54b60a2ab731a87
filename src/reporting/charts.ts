/**
 * The monthly report's charts: findings by rule and the indicators by township, drawn by echarts on the server
 * (its SSR mode: an SVG string, no DOM, no browser) and rasterised to PNG by resvg, because neither Excel nor
 * Word shows an SVG the other programs a county uses (WPS, older Office) can read; a PNG opens everywhere.
 *
 * resvg draws text only with fonts it is given: without a CJK font every Chinese label becomes an empty box.
 * The font is found at run time (fc-match for a CJK family, then the usual Debian/RHEL paths) and given to it by
 * file; without one the system fonts are loaded, and whatever they hold is drawn.
 * echarts and resvg are loaded on first use: a command that draws no chart does not pay their start-up.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Chart {
  title: string;
  png: Buffer;
  width: number;
  height: number;
}

export interface RuleBar {
  rule: string;
  name: string;
  openAtEnd: number;
  new: number;
  closed: number;
}

export interface TownshipRates {
  township: string;
  /** Rate per indicator label, 0–1; null when the township has no one to count. */
  rates: Readonly<Record<string, number | null>>;
}

/** CJK families tried, in order; the first fc-match resolves to a file of is used. */
const CJK_FAMILIES = [
  'WenQuanYi Zen Hei',
  'Noto Sans CJK SC',
  'Source Han Sans SC',
  'Microsoft YaHei',
  'SimHei',
];
const CJK_PATHS = [
  '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc',
  '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc',
];

export interface CjkFont {
  file: string;
  /** The family fc-match named it by, when it was found that way. */
  family?: string;
}

let cjkFont: { found: CjkFont | null } | null = null;

/** A font file with Chinese glyphs, or null when the machine has none (labels then render as boxes). */
export function findCjkFont(): CjkFont | null {
  if (cjkFont) return cjkFont.found;
  let found: CjkFont | null = null;
  for (const family of CJK_FAMILIES) {
    try {
      // fc-match always answers with some font: only a file whose family is the one asked for counts.
      const out = execFileSync('fc-match', ['-f', '%{family}\n%{file}', `${family}:lang=zh-cn`], {
        encoding: 'utf8',
        timeout: 5_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const [families = '', path = ''] = out.split('\n');
      if (path && families.split(',').some((f) => f.trim() === family) && existsSync(path)) {
        found = { file: path, family };
        break;
      }
    } catch {
      break; // no fontconfig: try the known paths
    }
  }
  const known = CJK_PATHS.find((p) => existsSync(p));
  found ??= known ? { file: known } : null;
  cjkFont = { found };
  return found;
}

const FONT_FAMILY = 'WenQuanYi Zen Hei, Noto Sans CJK SC, Source Han Sans SC, sans-serif';
const COLORS = ['#5470c6', '#91cc75', '#fac858', '#ee6666', '#73c0de', '#3ba272', '#fc8452'];

async function render(title: string, option: Record<string, unknown>, width: number, height: number) {
  const echarts = await import('echarts');
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, color: COLORS, textStyle: { fontFamily: FONT_FAMILY }, ...option });
    const svg = chart.renderToSVGString();
    const { Resvg } = await import('@resvg/resvg-js');
    const font = findCjkFont();
    const png = new Resvg(svg, {
      background: '#ffffff',
      // twice the layout size: sharp when Word or Excel scales the picture to the page
      fitTo: { mode: 'width', value: width * 2 },
      // The CJK font alone when there is one (it has Latin and digits too): loading every system font costs
      // seconds per chart (measured 2–4 s on a desktop's font set), the one file ~0.2 s.
      // The SVG names the CJK families first, so the font is picked by name whichever of them it is.
      font: font
        ? {
            loadSystemFonts: false,
            fontFiles: [font.file],
            ...(font.family ? { defaultFontFamily: font.family, sansSerifFamily: font.family } : {}),
          }
        : { loadSystemFonts: true },
    })
      .render()
      .asPng();
    return { title, png: Buffer.from(png), width, height };
  } finally {
    chart.dispose();
  }
}

/** Findings by rule: open at the cut-off, new and closed in the month, one group of bars per rule. */
export function findingsByRuleChart(rows: readonly RuleBar[], month: string): Promise<Chart> {
  const title = `${month} 各规则发现问题`;
  return render(
    title,
    {
      title: { text: title, left: 'center', top: 6, textStyle: { fontSize: 16 } },
      legend: { top: 40 },
      grid: { left: 50, right: 20, top: 85, bottom: 40 },
      xAxis: { type: 'category', data: rows.map((r) => r.rule), axisLabel: { fontSize: 12 } },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        {
          name: '未销号（统计截至日）',
          type: 'bar',
          data: rows.map((r) => r.openAtEnd),
          label: { show: true, position: 'top' },
        },
        { name: '本月新增', type: 'bar', data: rows.map((r) => r.new) },
        { name: '本月销号', type: 'bar', data: rows.map((r) => r.closed) },
      ],
    },
    800,
    420,
  );
}

/** The indicators' rates by township, one group of bars per township, the y axis in percent. */
export function indicatorsByTownshipChart(
  rows: readonly TownshipRates[],
  indicators: readonly string[],
  month: string,
): Promise<Chart> {
  const title = `${month} 各乡镇监测指标`;
  return render(
    title,
    {
      title: { text: title, left: 'center', top: 6, textStyle: { fontSize: 16 } },
      legend: { top: 40, width: 760 },
      grid: { left: 60, right: 20, top: 110, bottom: 40 },
      xAxis: { type: 'category', data: rows.map((r) => r.township), axisLabel: { fontSize: 12 } },
      yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
      series: indicators.map((name) => ({
        name,
        type: 'bar',
        data: rows.map((r) => {
          const rate = r.rates[name];
          return rate === null || rate === undefined ? null : Math.round(rate * 1000) / 10;
        }),
      })),
    },
    800,
    460,
  );
}
